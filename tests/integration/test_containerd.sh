#!/bin/bash
# containerd (Debian's containerd 1.6, runc) end to end with `ctr run` in a namespace of the test's
# own: a containerd started by the test (its root, socket and config under $WORK; the CRI plugin
# off; its state in the default /run/containerd, where the plugin looks for task bundles), tasks
# run from a busybox-static root file system with --rootfs. containerd puts them in cgroups
# /<namespace>/<id>; the plugin takes such a cgroup for a container while containerd has its task
# bundle, and names it by the task id (or by nerdctl's "nerdctl/name" annotation):
#   ctr_busy          busy loop + pings on its loopback: container-ctr_busy with CPU, memory,
#                     load and lo counters in CSV, Prometheus and Graphite; gone after removal
#   <64 hex digits>   run with --annotation nerdctl/name=ctr_web (what nerdctl does): container-ctr_web
# Skips when another containerd uses /run/containerd (its bundles are not the test's to touch).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stores_lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
require_root
for b in containerd ctr runc containerd-shim-runc-v2; do
  command -v $b >/dev/null || skip "$b missing; apt-get install containerd runc"
done
require_busybox
STATE=/run/containerd
if [ -S "$STATE/containerd.sock" ] && ctr --address "$STATE/containerd.sock" version >/dev/null 2>&1; then
  skip "a containerd of this host answers on $STATE/containerd.sock: the test needs $STATE to itself"
fi
if [ -n "$(ls -A "$STATE/io.containerd.runtime.v2.task" 2>/dev/null)" ]; then
  skip "$STATE/io.containerd.runtime.v2.task holds another containerd's tasks"
fi
NS=ctest-rt
NAME=ctr_busy
WEB_ID=$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')
WINDOW_SECONDS=${WINDOW_SECONDS:-8}

make_workdir
CW=$WORK/containerd
mkdir -p "$CW"
SOCK=$CW/containerd.sock
c() { ctr --address "$SOCK" -n "$NS" "$@"; }
remember_outside "$STATE"
CGS=()
for h in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do [ -d "$h$NS" ] || CGS+=("$h$NS"); done
CTRD_PID=""
containerd_cleanup() {
  stop_collectd
  stores_cleanup
  restore_delayacct
  local t p
  if [ -n "$CTRD_PID" ] && kill -0 "$CTRD_PID" 2>/dev/null; then
    for t in $(c task ls -q 2>/dev/null); do c task kill -s KILL "$t" >/dev/null 2>&1; done
    sleep 0.5
    for t in $(c task ls -q 2>/dev/null); do c task rm -f "$t" >/dev/null 2>&1; done
    for t in $(c container ls -q 2>/dev/null); do c container rm "$t" >/dev/null 2>&1; done
    kill_wait "$CTRD_PID" 10
  fi
  # Shims left behind: theirs is the test's socket address.
  for p in $(processes_with "$SOCK"); do kill -KILL "$p" 2>/dev/null; done
  local dirs=()
  for t in "${CGS[@]}"; do dirs+=($(ls -d "$t"/*/ 2>/dev/null)); done
  cgroup_kill_rmdir "${dirs[@]}" "${CGS[@]}"
  umount_under "$CW"
  umount_under "$STATE/io.containerd.runtime.v2.task/$NS"
  rm -rf "$STATE/io.containerd.runtime.v2.task/$NS" "$STATE/runc/$NS"
  remove_outside
  cleanup
}
trap containerd_cleanup EXIT

cat >"$CW/config.toml" <<CONF
version = 2
root = "$CW/root"
state = "$STATE"
disabled_plugins = ["io.containerd.grpc.v1.cri"]
[grpc]
  address = "$SOCK"
[ttrpc]
  address = "$SOCK.ttrpc"
[debug]
  address = ""
[metrics]
  address = ""
CONF
containerd --config "$CW/config.toml" >"$CW/containerd.log" 2>&1 &
CTRD_PID=$!
for ((i = 0; i < 100; i++)); do
  ctr --address "$SOCK" version >/dev/null 2>&1 && break
  sleep 0.1
done
check "containerd answers on its socket" eval 'ctr --address "$SOCK" version >/dev/null 2>&1' ||
  { tail -n 20 "$CW/containerd.log"; finish; exit; }

busybox_rootfs "$WORK/rootfs"
check "ctr run $NAME" eval 'c run -d --env PATH=/bin --rootfs "$WORK/rootfs" "$NAME" /bin/sh -c "$BUSY_CMD" >"$WORK/run.out" 2>&1'
check "ctr run ${WEB_ID:0:12}... --annotation nerdctl/name=ctr_web" \
  eval 'c run -d --env PATH=/bin --annotation nerdctl/name=ctr_web --rootfs "$WORK/rootfs" "$WEB_ID" /bin/sleep 3600 >>"$WORK/run.out" 2>&1'
cat "$WORK/run.out"
PID=$(c task ls 2>/dev/null | awk -v n="$NAME" '$1 == n {print $2}')
echo "containerd $(containerd --version | awk '{print $3}'): $NAME is pid ${PID:-?}, cgroup $(grep -m1 ':cpu:' "/proc/$PID/cgroup" 2>/dev/null);" \
  "its bundle $(ls -d "$STATE/io.containerd.runtime.v2.task/$NS/$NAME" 2>/dev/null)"
[ -n "$PID" ] || { fail "$NAME runs"; finish; exit; }
check "containerd's cgroup for $NAME is /$NS/$NAME" grep -q "^0::/$NS/$NAME\$" "/proc/$PID/cgroup"

runtime_collectd "  Container \"/^ctr_/\"
  Interface \"lo\"
  IgnoreSelectedInterface false" || { fail "collectd and the stores start"; finish; exit; }
check_busy "$NAME" "$PID" "$WINDOW_SECONDS"
check "the appeared notification gives the namespace in the id, runtime containerd" \
  grep -q "container appeared: $NAME (id $NS/$NAME, runtime containerd)" "$WORK/collectd.log"
check "the annotated task is container-ctr_web (nerdctl's name)" wait_for_csv ctr_web ps_cputime 1 5
check "the namespace's own cgroup /$NS is not a container (only ctr_busy and ctr_web)" \
  test "$(ls "$WORK/csv/$TESTHOST" | tr '\n' ' ')" = "container-ctr_busy container-ctr_web "
check_stores "$NAME"
check_dashboards "$NAME"

check "ctr task rm --force, container rm $NAME" \
  eval 'c task rm --force "$NAME" >/dev/null 2>&1 && c container rm "$NAME" >/dev/null'
check_gone "$NAME"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(collectd_errors)"
collectd_errors | head -5
finish
