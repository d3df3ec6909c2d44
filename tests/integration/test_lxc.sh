#!/bin/bash
# LXC (Debian's lxc 5) end to end: `lxc-create -t busybox` in a container path of the test's own
# (-P under $WORK) with `lxc.net.0.type = empty` (a network namespace with only lo: there is no
# lxcbr0 bridge here), `lxc-start`, and a busy loop + pings on its loopback run in it with
# lxc-attach. Its cgroups on this host are lxc.payload.NAME (the monitor's lxc.monitor.NAME is
# not a container). The container shows up as container-lx_busy, named by its LXC name, with
# CPU, memory, load and lo counters in CSV, Prometheus and Graphite; after lxc-stop and
# lxc-destroy it goes. Everything is removed on exit.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stores_lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
require_root
for b in lxc-create lxc-start lxc-attach lxc-stop lxc-destroy lxc-info; do
  command -v $b >/dev/null || skip "$b missing; apt-get install lxc"
done
[ -f /usr/share/lxc/templates/lxc-busybox ] || skip "lxc's busybox template missing; apt-get install lxc"
require_busybox
NAME=lx_busy
WINDOW_SECONDS=${WINDOW_SECONDS:-8}

make_workdir
LXP=$WORK/lxc
mkdir -p "$LXP"
lx() { local c=$1; shift; "lxc-$c" -P "$LXP" -n "$NAME" "$@"; }
# LXC's lock directory, and the cgroups it makes for the container, its monitor and moving tasks.
remember_outside /run/lxc
CGS=()
for c in /sys/fs/cgroup/*/ /sys/fs/cgroup/; do
  for d in lxc.payload.$NAME lxc.monitor.$NAME lxc.pivot; do [ -d "$c$d" ] || CGS+=("$c$d"); done
done
ATTACH_PID=""
lxc_cleanup() {
  stop_collectd
  stores_cleanup
  restore_delayacct
  lx stop -k >/dev/null 2>&1
  [ -n "$ATTACH_PID" ] && kill -KILL "$ATTACH_PID" 2>/dev/null
  lx destroy >/dev/null 2>&1
  local p
  for p in $(processes_with "$LXP"); do kill -KILL "$p" 2>/dev/null; done
  cgroup_kill_rmdir "${CGS[@]}"
  umount_under "$LXP"
  remove_outside
  cleanup
}
trap lxc_cleanup EXIT

printf 'lxc.net.0.type = empty\nlxc.apparmor.profile = unconfined\n' >"$WORK/lxc.conf"
check "lxc-create -t busybox $NAME" eval 'lx create -t busybox -f "$WORK/lxc.conf" >"$WORK/create.out" 2>&1'
check "lxc-start $NAME" eval 'lx start -d -l INFO -o "$WORK/lxc-start.log"'
lx wait -s RUNNING -t 10
PID=$(lx info -pH 2>/dev/null)
[ -n "$PID" ] || { fail "$NAME runs: $(tail -n 5 "$WORK/lxc-start.log")"; finish; exit; }
lx attach -- sh -c "$BUSY_CMD" </dev/null >/dev/null 2>&1 &
ATTACH_PID=$!
PIDS_STARTED+=("$ATTACH_PID")
# The busy loop: the attached shell inside the container (the one that runs `while`).
BUSY=""
for ((i = 0; i < 50; i++)); do
  for t in $(cat /sys/fs/cgroup/*/lxc.payload.$NAME/cgroup.procs /sys/fs/cgroup/lxc.payload.$NAME/cgroup.procs 2>/dev/null); do
    pid_cmd=$(tr '\0' ' ' <"/proc/$t/cmdline" 2>/dev/null)
    [[ "$pid_cmd" == "sh -c ip link"* ]] && BUSY=$t
  done
  [ -n "$BUSY" ] && break
  sleep 0.1
done
echo "lxc $(lxc-create --version): $NAME init is pid $PID, busy loop $BUSY, cgroup $(grep -m1 ':cpu,\|:cpu:' "/proc/$PID/cgroup" || head -n 1 "/proc/$PID/cgroup")"
[ -n "$BUSY" ] || { fail "the busy loop runs in $NAME"; finish; exit; }
# On the unified tree of a hybrid host LXC 5 keeps processes in the leaf lxc.payload.NAME/.lxc.
echo "the busy loop's cgroups: $(grep -E '^(0|[0-9]+:cpu)[:,]' "/proc/$BUSY/cgroup" | tr '\n' ' ')"

runtime_collectd "  Container \"/^lx_/\"
  Interface \"lo\"
  IgnoreSelectedInterface false" || { fail "collectd and the stores start"; finish; exit; }
check_busy "$NAME" "$BUSY" "$WINDOW_SECONDS"
check "the appeared notification says runtime lxc" \
  grep -q "container appeared: $NAME (id $NAME, runtime lxc)" "$WORK/collectd.log"
check "the monitor (lxc.monitor.$NAME) is not taken for a container" \
  test -z "$(ls "$WORK/csv/$TESTHOST" | grep -v "^container-$NAME\$")"
check_stores "$NAME"
check_dashboards "$NAME"

check "lxc-stop $NAME" eval 'lx stop -k >/dev/null 2>&1'
check_gone "$NAME"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(collectd_errors)"
collectd_errors | head -5
finish
