#!/bin/bash
# vm-layouts: v2
# Real Docker on a pure cgroup v2 host: the test's own dockerd (tmpfs-backed roots, no iptables,
# no bridge, vfs storage, cgroupfs driver) runs a busybox image imported from busybox-static with
# `docker run --cpus 0.5 --memory 64m`. collectd names it from Docker's own config.v2.json; once
# the container is paused (cgroup.freeze), its values are compared with the kernel's files.
. "$(dirname "$0")/lib.sh"
. "$TOP_SRCDIR/tests/integration/docker_lib.sh"
require_root
docker_require

make_workdir
trap 'docker_cleanup; cleanup' EXIT
phase "starting dockerd"
docker_start || { fail "dockerd starts"; finish; exit; }
phase "dockerd answered after $DOCKERD_START_S s"
# The image: busybox and its sh (docker_import_busybox's link per applet costs a fork each,
# half a minute under emulation).
mkdir -p "$WORK/rootfs/bin" "$WORK/rootfs/tmp" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev"
cp "$BUSYBOX_BIN" "$WORK/rootfs/bin/busybox" && ln -s busybox "$WORK/rootfs/bin/sh"
tar -C "$WORK/rootfs" -cf - . | dk import -c 'ENV PATH=/bin' - "$DOCKER_IMAGE" >/dev/null ||
  { fail "docker import of busybox-static"; finish; exit; }
phase "image imported"
NAME=vm_docker
docker_run "$NAME" --cpus 0.5 --memory 64m --network none "$DOCKER_IMAGE" \
  sh -c 'while :; do :; done' || { fail "docker run"; finish; exit; }
ID=$(docker_id "$NAME")
phase "container $ID runs"
REL=$(awk -F: '$1 == "0" {print substr($3, 2)}' "/proc/$(docker_pid "$NAME")/cgroup")
echo "its cgroup: /sys/fs/cgroup/$REL"
write_config 1 "  DockerRoot \"$DOCKER_DATA\"
  Container \"$NAME\""
start_collectd || { fail "collectd starts"; finish; exit; }
check "$NAME's values appear under its Docker name" wait_for_csv "$NAME" ps_cputime 3 40
dk pause "$NAME" >/dev/null
check "docker pause froze the cgroup" grep -qx 'frozen 1' "$CG/$REL/cgroup.events"
sleep 0.3
check "rows after the pause" wait_rows "$NAME" ps_cputime 2 20
echo "--- dispatched for $NAME ($VM_LAYOUT):"
dispatched "$NAME" | tr '\n' ' '
echo
st=$CG/$REL/cpu.stat
cpu=$(last_row "$NAME" ps_cputime)
same "ps_cputime user (cpu.stat user_usec)" "$(col "$cpu" 1)" "$(kkey "$st" user_usec)"
same "ps_cputime syst (cpu.stat system_usec)" "$(col "$cpu" 2)" "$(kkey "$st" system_usec)"
same "operations-cfs_periods (cpu.stat nr_periods)" "$(col "$(last_row "$NAME" operations-cfs_periods)" 1)" "$(kkey "$st" nr_periods)"
same "operations-cfs_throttled (cpu.stat nr_throttled)" "$(col "$(last_row "$NAME" operations-cfs_throttled)" 1)" "$(kkey "$st" nr_throttled)"
same "total_time_in_ms-cfs_throttled (cpu.stat throttled_usec / 1000)" "$(col "$(last_row "$NAME" total_time_in_ms-cfs_throttled)" 1)" $(($(kkey "$st" throttled_usec) / 1000)) 1
check "--cpus 0.5 is cpu.max 50000 100000" grep -qx '50000 100000' "$CG/$REL/cpu.max"
same "memory-limit (memory.max, --memory 64m)" "$(col "$(last_row "$NAME" memory-limit)" 1)" "$(cat "$CG/$REL/memory.max")"
check "--memory 64m is 67108864 bytes" test "$(cat "$CG/$REL/memory.max")" = 67108864
same "memory-usage (memory.current)" "$(col "$(last_row "$NAME" memory-usage)" 1)" "$(cat "$CG/$REL/memory.current")" 8192
same "count-pids (pids.current)" "$(col "$(last_row "$NAME" count-pids)" 1)" "$(cat "$CG/$REL/pids.current")"
check "the container is throttled by its cap (nr_throttled > 0)" test "$(kkey "$st" nr_throttled)" -gt 0
check "the container appeared notification names it with runtime docker" \
  grep -q "container appeared: $NAME (id $ID, runtime docker)" "$WORK/collectd.log"
dk unpause "$NAME" >/dev/null
finish_with_ids
