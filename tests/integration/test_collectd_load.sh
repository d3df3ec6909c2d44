#!/bin/bash
# Task states and load averages through a real collectd, on cgroup v1 (cgroupstats) and, with a
# second collectd pointed at the v2 tree (CgroupRoot /sys/fs/cgroup/unified), through the
# cgroup.threads + /proc fallback. Same cgroups and processes for both. Two containers change
# members while collectd runs: the plugin keeps thread lists (v2) and /proc stat files open.
. "$(dirname "$0")/lib.sh"
require_root
[ -d /sys/fs/cgroup/cpu ] || skip "needs the cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu"
[ -f /sys/fs/cgroup/unified/cgroup.procs ] || skip "needs a cgroup v2 tree at /sys/fs/cgroup/unified"
DURATION=${LOAD_TEST_SECONDS:-62}

make_workdir
CTRL=(cpu cpuacct unified)
TWO_ID=$(random_id)
IDLE_ID=$(random_id)
CHILD_ID=$(random_id)
JOIN_ID=$(random_id)
LEAVE_ID=$(random_id)
for id in "$TWO_ID" "$IDLE_ID" "$CHILD_ID" "$JOIN_ID" "$LEAVE_ID"; do make_cgroup "docker/$id" "${CTRL[@]}"; done
make_cgroup "docker/$CHILD_ID/worker" "${CTRL[@]}"
fake_docker_name "$TWO_ID" load_two
fake_docker_name "$IDLE_ID" load_idle
fake_docker_name "$CHILD_ID" load_child
fake_docker_name "$JOIN_ID" load_join
fake_docker_name "$LEAVE_ID" load_leave

spawn_in() { # spawn_in REL COMMAND...: starts COMMAND inside cgroup REL of every hierarchy
  local rel=$1; shift
  "$@" &
  local pid=$!
  PIDS_STARTED+=("$pid")
  move_pid "$pid" "$rel" "${CTRL[@]}"
}
spawn_in "docker/$TWO_ID" sh -c 'while :; do :; done'
spawn_in "docker/$TWO_ID" sh -c 'while :; do :; done'
spawn_in "docker/$IDLE_ID" sleep 3600
spawn_in "docker/$CHILD_ID/worker" sh -c 'while :; do :; done'
spawn_in "docker/$LEAVE_ID" sh -c 'while :; do :; done'
LEAVER=$!

# First daemon: v1 tree with cgroupstats; second: v2 tree (its own CSV directory) with the
# default /proc method, which is also what cgroupstats falls back to there.
V1_WORK=$WORK
write_config 1 "  DockerRoot \"$WORK/docker\"
  TaskStateSource \"cgroupstats\"
  Container \"/^load_/\"
  CollectBlkio false
  CollectMemory false"
start_collectd || { fail "collectd (v1) starts"; finish; exit; }
V1_PID=$COLLECTD_PID

WORK=$V1_WORK/v2
mkdir -p "$WORK/csv"
cp -r "$V1_WORK/plugins" "$WORK/"
write_config 1 "  CgroupRoot \"/sys/fs/cgroup/unified\"
  DockerRoot \"$V1_WORK/docker\"
  Container \"/^load_/\"
  CollectBlkio false
  CollectMemory false"
start_collectd || { fail "collectd (v2) starts"; finish; exit; }
V2_PID=$COLLECTD_PID
COLLECTD_PID=""

echo "running for $DURATION s..."
sleep 5 # several reads with the first members
spawn_in "docker/$JOIN_ID" sh -c 'while :; do :; done'
kill "$LEAVER"
sleep "$((DURATION - 5))"

# load_at DIR INSTANCE SECONDS: shortterm load in the first row at least SECONDS after the first.
load_at() {
  local f
  f=$(ls -1 "$1/csv/$TESTHOST/container-$2"/load-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] || { echo -1; return; }
  grep -v '^epoch' "$f" | awk -F, -v s="$3" 'NR==1{t0=$1} $1-t0>=s {print $2; found=1; exit} END{if(!found) print -1}'
}
last_value() { # last_value DIR INSTANCE TYPE-INSTANCE
  local f
  f=$(ls -1 "$1/csv/$TESTHOST/container-$2/$3"-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] && tail -n 1 "$f" | cut -d, -f2
}
near() { awk -v a="$1" -v e="$2" -v tol="$3" 'BEGIN{d=a-e; if(d<0)d=-d; exit !(a>=0 && d<=tol)}'; }

for tree in v1 v2; do
  dir=$V1_WORK; [ "$tree" = v2 ] && dir=$V1_WORK/v2
  l2=$(load_at "$dir" load_two 59)
  l1=$(load_at "$dir" load_child 59)
  l0=$(load_at "$dir" load_idle 59)
  r2=$(last_value "$dir" load_two ps_state-running)
  r1=$(last_value "$dir" load_child ps_state-running)
  r0=$(last_value "$dir" load_idle ps_state-running)
  echo "$tree: load_two shortterm=$l2 running=$r2; load_child shortterm=$l1 running=$r1; load_idle shortterm=$l0 running=$r0"
  check "$tree: 2 busy loops: ps_state-running = 2" near "${r2:--1}" 2 0.01
  check "$tree: 2 busy loops: load shortterm at 60 s = 1.26 +- 10 %" near "$l2" 1.264 0.126
  check "$tree: work in a child cgroup is counted (running = 1)" near "${r1:--1}" 1 0.01
  check "$tree: child-cgroup load shortterm at 60 s = 0.63 +- 10 %" near "$l1" 0.632 0.063
  check "$tree: sleeping container: running = 0" near "${r0:--1}" 0 0.01
  check "$tree: sleeping container: load 0" near "$l0" 0 0.01
  rj=$(last_value "$dir" load_join ps_state-running)
  rl=$(last_value "$dir" load_leave ps_state-running)
  echo "$tree: load_join running=$rj; load_leave running=$rl"
  check "$tree: a loop that joined after 5 s is running (1)" near "${rj:--1}" 1 0.01
  check "$tree: a loop killed after 5 s is gone (0)" near "${rl:--1}" 0 0.01
done

check "v1 daemon says which method it uses" grep -q "task states on the cgroup v1 cpu hierarchy come from cgroupstats" "$V1_WORK/collectd.log"
check "v2 daemon says it uses /proc" grep -q "task states on the cgroup v2 hierarchy come from" "$V1_WORK/v2/collectd.log"
COLLECTD_PID=$V2_PID; stop_collectd
check "no ERROR lines (v2 daemon)" test -z "$(errors_in_log)"
WORK=$V1_WORK; COLLECTD_PID=$V1_PID; stop_collectd
check "no ERROR lines (v1 daemon)" test -z "$(errors_in_log)"
finish
