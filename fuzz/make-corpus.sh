#!/bin/bash
# Builds the seed corpora of the fuzz targets from the fixture trees, at run time (no copies are
# committed):  fuzz/make-corpus.sh OUTDIR [BINDIR]
# Creates OUTDIR/<target>/ for every target. BINDIR holds pack_seeds and gen_netlink_seeds (built
# from fuzz/*.c here with ${CC:-cc} when missing). Sources: tests/fixtures (the trees and the
# real-host samples in tests/fixtures/real), and this host's links and
# /proc/partitions. Written with few processes: forks are slow on a loaded CI machine.
set -eu
OUT=${1:?usage: make-corpus.sh OUTDIR [BINDIR]}
TOP=$(cd "$(dirname "$0")/.." && pwd)
BIN=${2:-$OUT/.bin}
FIX=$TOP/tests/fixtures
REAL=$FIX/real
[ -d "$REAL" ] || { echo "make-corpus: no $REAL" >&2; exit 1; }

TARGETS="cgroup_v1 cgroup_v2 proc_cgroup procstate hoststat docker_config podman_json k8s_log identify
cgroupstats taskstats netns_link partitions"
for t in $TARGETS; do mkdir -p "$OUT/$t"; done
mkdir -p "$BIN"
for tool in pack_seeds gen_netlink_seeds; do
  [ -x "$BIN/$tool" ] || ${CC:-cc} -O1 -I"$TOP/fuzz" -o "$BIN/$tool" "$TOP/fuzz/$tool.c"
done

N=0
next() { # next TARGET: sets F to a new seed file name
  N=$((N + 1))
  F=$OUT/$1/seed-$N
}
slurp() { # slurp FILE: sets TEXT to the file's content (no NUL in these files; no fork)
  TEXT=
  IFS= read -r -d '' TEXT <"$1" || true
}

# cgroup v2: real sample dirs, every cgroup dir of the v2 fixture trees, and single files.
{
  for d in "$REAL"/cgroup-v2/*/; do [ -d "$d" ] && echo "$d"; done
  for root in "$FIX"/*/sys/fs/cgroup "$FIX"/*/sys/fs/cgroup/unified; do
    [ -f "$root/cgroup.controllers" ] && find "$root" -type d
  done
  for f in "$REAL"/cgroup-v2/*/* "$REAL"/proc-pressure/*/*; do [ -f "$f" ] && echo "=$f"; done
} | "$BIN/pack_seeds" v2 "$OUT/cgroup_v2" >/dev/null
# cgroup v1: real sample dirs (one cgroup each), the v1 fixture trees (one dir per controller).
{
  for d in "$REAL"/cgroup-v1/*/; do [ -d "$d" ] && echo "$d"; done
  for root in "$FIX"/*/sys/fs/cgroup; do
    [ -d "$root/memory" ] || continue
    (cd "$root/memory" && find . -mindepth 1 -type d) | while read -r rel; do
      line=
      for c in "$root"/*/; do line=$line${line:+|}$c$rel; done
      echo "$line"
    done
  done
  for f in "$REAL"/cgroup-v1/*/*; do [ -f "$f" ] && echo "=$f"; done
} | "$BIN/pack_seeds" v1 "$OUT/cgroup_v1" >/dev/null

# /proc/PID/cgroup: "RELPATH\nTEXT", RELPATH the path of the file's last line.
for f in "$REAL"/proc-pid-cgroup/*/cgroup "$FIX"/*/proc/*/cgroup; do
  [ -f "$f" ] || continue
  slurp "$f"
  last=${TEXT%$'\n'}
  last=${last##*$'\n'}
  next proc_cgroup
  printf '%s\n%s' "${last#*:*:}" "$TEXT" >"$F"
done

# /proc/TID/stat: "TIDS" NUL "STAT" (fuzz_procstate.c).
for f in "$REAL"/proc-pid-stat/*/stat "$FIX"/*/proc/*/stat "$FIX"/*/proc/*/task/*/stat; do
  [ -f "$f" ] || continue
  slurp "$f"
  next procstate
  printf '1\n2\n5\n6\n9\n\0%s' "$TEXT" >"$F"
done
# More than one 4096-byte read of cgroup.threads, lines of 15 digits (cheap: no such TIDs).
next procstate
{
  for i in $(seq 1 300); do printf '%015d\n' "$i"; done
  printf '3\0001 (x) R 0'
} >"$F"
next procstate
printf '3\n7\0007 (a b ) ( c d) D 1 2' >"$F"

# /proc/stat (the real samples, this host's, and a cut one).
for f in "$REAL"/proc-stat/*/stat /proc/stat; do
  [ -f "$f" ] || continue
  next hoststat
  cp "$f" "$F"
done
next hoststat
printf 'cpu  10 0 5 100 2 0 1 0 0 0\ncpu0 10 0 5 100 2 0 1 0 0 0\nbtime 1700000000\n' >"$F"

# Docker config.v2.json; podman containers.json ("ID\nJSON").
for f in "$REAL"/docker-config/*/config.v2.json $(find "$FIX" -path "$REAL" -prune -o -name config.v2.json -print); do
  [ -f "$f" ] || continue
  next docker_config
  cp "$f" "$F"
done
for f in $(find "$FIX" -name containers.json); do
  slurp "$f"
  ids=$(grep -oE '"id" *: *"[0-9a-f]{64}"' "$f" | grep -oE '[0-9a-f]{64}' | head -n 5 || true)
  for id in $ids none; do
    next podman_json
    printf '%s\n%s' "$id" "$TEXT" >"$F"
  done
done

# kubelet log names.
for f in $(find "$FIX" -path '*log/containers/*'); do
  next k8s_log
  printf '%s' "${f##*/}" >"$F"
done
ID=1d3d308a7d48a27814a68bf33a44acf4441c9c02463ca0bc1cdfdc8c0b4a8496
for name in web-0_default_nginx frontend-5f7c9_web_nginx coredns-5d78c9869d-4xq2p_kube-system_coredns \
  a_b_c bad_name_with_more_parts no-underscores; do
  next k8s_log
  printf '%s-%s.log' "$name" "$ID" >"$F"
done

# cgroup paths: every directory of the fixture trees (relative to its hierarchy) and the paths
# of the real /proc/PID/cgroup samples.
for root in "$FIX"/*/sys/fs/cgroup; do
  while read -r rel; do
    case $rel in
    cpu/* | cpuacct/* | memory/* | blkio/* | pids/* | unified/* | systemd/* | cpu,cpuacct/*)
      rel=${rel#*/} ;;
    esac
    next identify
    printf '%s' "$rel" >"$F"
  done < <(cd "$root" && find . -mindepth 1 -type d | sed 's|^\./||')
done
for f in "$REAL"/proc-pid-cgroup/*/cgroup; do
  [ -f "$f" ] || continue
  while IFS= read -r line; do
    next identify
    printf '%s' "${line#*:*:}" >"$F"
  done <"$f"
done

# cgroupstats payloads: 5 u64 (sleeping, running, stopped, uninterruptible, io_wait), and a cut one.
next cgroupstats
printf '\001\0\0\0\0\0\0\0\002\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\003\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0' >"$F"
next cgroupstats
printf '\001\0\0\0\0\0\0\0\002\0\0' >"$F"

# taskstats: a hint byte, then a TASKSTATS_TYPE_STATS payload (version 16 layout from the
# kernel's struct: u16 version, then zeros) and a nested AGGR_PID attribute around it.
next taskstats
{ printf '\020\020\0'; head -c 414 /dev/zero; } >"$F"
next taskstats
{ printf '\0\012\0'; head -c 326 /dev/zero; } >"$F"
next taskstats
# nla(len=8,type=PID=1,u32 42) + nla(len=4+416,type=STATS=3) inside nla(AGGR_PID=4)
{ printf '\020'; printf '\250\001\004\0'; printf '\010\0\001\0\052\0\0\0'; printf '\240\001\003\0\020\0'; head -c 414 /dev/zero; } >"$F"

# Link messages as this kernel sends them.
"$BIN/gen_netlink_seeds" "$OUT/netns_link" >/dev/null || echo "make-corpus: no link messages" >&2
next netns_link
printf '\0\0\0\0' >"$F"

# /proc/partitions
for f in "$FIX"/*/proc/partitions /proc/partitions; do
  [ -f "$f" ] || continue
  next partitions
  cp "$f" "$F"
done

for t in $TARGETS; do
  set -- "$OUT/$t"/*
  printf '%s: %d seeds\n' "$t" $#
done
