#!/bin/bash
# Podman (Debian's podman, runc) end to end: a store of the test's own (--root, --runroot,
# --tmpdir under $WORK, the vfs driver), the cgroupfs manager (no systemd here), events to a file,
# an image imported from busybox-static, `--network none` (no CNI bridge on the host) and limits
# the sandbox can set. A named container `pm_busy` (busy loop + pings on its loopback) shows up as
# container-pm_busy, named from the store's vfs-containers/containers.json
# (PodmanContainersFile), with CPU, memory, load and lo counters, in CSV, Prometheus and
# Graphite; after `podman rm` it goes. Everything is removed on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stores_lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
require_root
command -v podman >/dev/null || skip "podman is not installed; apt-get install podman"
command -v runc >/dev/null || skip "runc is not installed; apt-get install runc"
require_busybox
NAME=pm_busy
WINDOW_SECONDS=${WINDOW_SECONDS:-8}

make_workdir
PMW=$WORK/podman
pm() {
  podman --root "$PMW/root" --runroot "$PMW/runroot" --tmpdir "$PMW/tmp" --storage-driver vfs \
    --cgroup-manager cgroupfs --events-backend file --runtime runc "$@"
}
# cgroupfs manager: containers under libpod_parent/libpod-ID, conmon under libpod_parent/conmon.
# podman import's blob cache and the CNI lock, even with --network none.
remember_outside /var/lib/containers /etc/cni/net.d/cni.lock
CG_PARENTS=()
for c in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do [ -d "${c}libpod_parent" ] || CG_PARENTS+=("${c}libpod_parent"); done
podman_cleanup() {
  stop_collectd
  stores_cleanup
  restore_delayacct
  pm rm -a -f -t 0 >/dev/null 2>&1
  pm rmi -a -f >/dev/null 2>&1
  local p
  for p in $(processes_with "$PMW/"); do kill -KILL "$p" 2>/dev/null; done
  local c dirs=()
  for c in "${CG_PARENTS[@]}"; do
    dirs+=($(ls -d "$c"/*/ 2>/dev/null)) # children first
  done
  cgroup_kill_rmdir "${dirs[@]}" "${CG_PARENTS[@]}"
  umount_under "$PMW"
  remove_outside
  cleanup
}
trap podman_cleanup EXIT

busybox_rootfs "$WORK/rootfs"
check "image imported from busybox-static" \
  eval "tar -C '$WORK/rootfs' -cf - . | pm import -q -c 'ENV PATH=/bin' - localhost/ctest-busybox:1 >/dev/null"
# The sandbox cannot raise limits: runc would fail setting podman's default ones. Podman drops
# NET_RAW by default, which busybox's ping needs.
RUN=(run -d --network none --cap-add NET_RAW --ulimit nofile=1024:1024 --ulimit nproc=4096:4096)
check "podman run $NAME" eval 'pm "${RUN[@]}" --name "$NAME" localhost/ctest-busybox:1 sh -c "$BUSY_CMD" >"$WORK/cid" 2>"$WORK/run.err"'
cat "$WORK/run.err"
ID=$(cat "$WORK/cid")
PID=$(pm inspect -f '{{.State.Pid}}' "$NAME" 2>/dev/null)
JSON=$PMW/root/vfs-containers/containers.json
echo "podman $(podman --version | awk '{print $3}'): $NAME is ${ID:0:12}, pid $PID, cgroup $(grep -m1 cpu, /proc/"$PID"/cgroup 2>/dev/null || head -n 1 /proc/"$PID"/cgroup)"
check "the store's names are in $JSON" grep -q "\"$NAME\"" "$JSON"
[ -n "$PID" ] && [ "$PID" -gt 0 ] || { fail "$NAME runs"; finish; exit; }

runtime_collectd "  PodmanContainersFile \"$JSON\"
  Container \"/^pm_/\"
  Interface \"lo\"
  IgnoreSelectedInterface false" || { fail "collectd and the stores start"; finish; exit; }
check_busy "$NAME" "$PID" "$WINDOW_SECONDS"
check "the appeared notification names podman's id and runtime" \
  grep -q "container appeared: $NAME (id $ID, runtime podman)" "$WORK/collectd.log"
check_stores "$NAME"
check_dashboards "$NAME"

check "podman rm -f $NAME" eval 'pm rm -f -t 0 "$NAME" >/dev/null 2>&1'
check_gone "$NAME"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(collectd_errors)"
collectd_errors | head -5
finish
