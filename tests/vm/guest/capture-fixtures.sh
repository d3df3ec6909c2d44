#!/bin/bash
# capture-fixtures.sh OUTDIR (in the guest, as root): makes one container like test_accounting's
# (a capped busy loop, 16 MiB memory limit, swap, an OOM kill, direct I/O to vda, pids.max 64),
# stops it and copies its cgroup files, the layout's top level and /proc/partitions into OUTDIR
# as a fixture tree (see tests/fixtures/README.md). Run through run-guest.sh with VM_KEEP=1:
#   VM_KEEP=1 tests/vm/run-guest.sh v2 tests/vm/guest/capture-fixtures.sh /vmout/tree
TOP_SRCDIR=${TOP_SRCDIR:-$(cd "$(dirname "$0")/../../.." && pwd)} PLUGIN_SO=${PLUGIN_SO:-none}
. "$(dirname "$0")/lib.sh"
OUT=${1:?usage: capture-fixtures.sh OUTDIR}
ID=b0c5e1d2a3f4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0
REL=docker/$ID
MIB=$((1024 * 1024))
trap cleanup EXIT
ctr_make "$REL"
if [ "$VM_LAYOUT" = v2 ]; then
  echo "50000 100000" >"$CG/$REL/cpu.max"
  echo $((16 * MIB)) >"$CG/$REL/memory.max"
  echo $((16 * MIB)) >"$CG/$REL/memory.swap.max"
else
  echo 50000 >"$(kpath cpu "$REL" cpu.cfs_quota_us)"
  echo $((16 * MIB)) >"$(kpath memory "$REL" memory.limit_in_bytes)"
  echo $((32 * MIB)) >"$(kpath memory "$REL" memory.memsw.limit_in_bytes)"
  for d in vda vdb; do
    for rw in read write; do
      echo "$(cat /sys/block/$d/dev) 10000000000" >"$(kpath blkio "$REL" blkio.throttle.${rw}_bps_device)"
    done
  done
fi
echo 64 >"$(kpath pids "$REL" pids.max)"
mkswap /dev/vdb >/dev/null && swapon /dev/vdb
in_ctr "$REL" sh -c 'while :; do :; done'
in_ctr "$REL" python3 -c 'import time; b = b"x" * (20 << 20); time.sleep(600)'
echo -1000 >"/proc/$LAST_PID/oom_score_adj"
sleep 3
in_ctr "$REL" python3 -c 'b = b"x" * (48 << 20)'
wait "$LAST_PID"
in_ctr "$REL" dd if=/dev/zero of=/dev/vda bs=64k count=64 oflag=direct status=none
wait "$LAST_PID"
in_ctr "$REL" dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct status=none
wait "$LAST_PID"
sleep 2
stop_ctr "$REL"
sleep 0.5
copy_dir() { # copy_dir SRC DST: the readable regular files of a cgroup directory
  local f
  mkdir -p "$2"
  for f in "$1"/*; do
    [ -f "$f" ] && [ -r "$f" ] && cat "$f" >"$2/${f##*/}" 2>/dev/null || rm -f "$2/${f##*/}"
  done
}
mkdir -p "$OUT/sys/fs/cgroup" "$OUT/proc"
cp /proc/partitions "$OUT/proc/partitions"
if [ "$VM_LAYOUT" = v2 ]; then
  cp "$CG/cgroup.controllers" "$OUT/sys/fs/cgroup/"
  copy_dir "$CG/$REL" "$OUT/sys/fs/cgroup/$REL"
else
  for h in /sys/fs/cgroup/*; do
    n=${h##*/}
    if [ -L "$h" ]; then ln -s "$(readlink "$h")" "$OUT/sys/fs/cgroup/$n"; continue; fi
    mkdir -p "$OUT/sys/fs/cgroup/$n"
    [ -d "$h/$REL" ] && copy_dir "$h/$REL" "$OUT/sys/fs/cgroup/$n/$REL"
  done
fi
cont_ctr "$REL"
echo "captured: $(find "$OUT" -type f | wc -l) files"
