#!/bin/bash
# Frozen containers (issue 18): the kernel's load leaves frozen tasks out, so must the plugin.
# Two containers of 3 busy loops each: f_v1 frozen through the v1 freezer (freezer.state FROZEN,
# what docker pause does on a v1 or hybrid host; /proc then shows the tasks as D on recent
# kernels, R on 6.1-6.12), f_v2 through the unified tree's cgroup.freeze (/proc shows S).
# Two daemons: CgroupRoot /sys/fs/cgroup (hybrid: must see both freezers) and CgroupRoot
# /sys/fs/cgroup/unified (v2 view: sees cgroup.freeze; f_v1 is left out of its checks, a v2
# view cannot see the v1 freezer). Interval 5. After the freeze: running 0 and blocked 0 from the
# first row more than one interval (+ the 5 s sampling period) later, and the 1-minute load
# decays (never rises, and after 30 s frozen it is at most 0.7 of its value at the freeze:
# exp(-30/60) = 0.61). Thawed again: running 3.
. "$(dirname "$0")/lib.sh"
require_root
[ -d /sys/fs/cgroup/freezer ] || skip "needs the cgroup v1 freezer hierarchy at /sys/fs/cgroup/freezer"
[ -f /sys/fs/cgroup/unified/cgroup.procs ] || skip "needs a cgroup v2 tree at /sys/fs/cgroup/unified"
IV=5

make_workdir
BASE=$WORK
CTRL=(cpu cpuacct freezer unified)
declare -A ID
for n in f_v1 f_v2; do
  ID[$n]=$(random_id)
  make_cgroup "docker/${ID[$n]}" "${CTRL[@]}"
  fake_docker_name "${ID[$n]}" "$n"
  for i in 1 2 3; do
    sh -c 'while :; do :; done' &
    PIDS_STARTED+=($!)
    move_pid $! "docker/${ID[$n]}" "${CTRL[@]}"
  done
done
V1_STATE=/sys/fs/cgroup/freezer/docker/${ID[f_v1]}/freezer.state
V2_FREEZE=/sys/fs/cgroup/unified/docker/${ID[f_v2]}/cgroup.freeze
[ -w "$V2_FREEZE" ] || skip "no cgroup.freeze (the v2 freezer needs Linux 5.2)"
thaw() { echo THAWED >"$V1_STATE" 2>/dev/null; echo 0 >"$V2_FREEZE" 2>/dev/null; cleanup; }
trap thaw EXIT

DAEMONS=()
for view in hybrid v2; do
  WORK=$BASE/$view
  mkdir -p "$WORK/csv"
  cp -r "$BASE/plugins" "$WORK/"
  root=/sys/fs/cgroup
  [ "$view" = v2 ] && root=/sys/fs/cgroup/unified
  write_config "$IV" "  CgroupRoot \"$root\"
  DockerRoot \"$BASE/docker\"
  Container \"/^f_/\"
  CollectMemory false
  CollectBlkio false
  CollectNetwork false"
  start_collectd || { fail "collectd ($view) starts"; finish; exit; }
  DAEMONS+=("$COLLECTD_PID")
  COLLECTD_PID=""
done
WORK=$BASE

echo "running 40 s, then frozen 35 s, then thawed 12 s..."
sleep 40
T_FREEZE=$(date +%s.%N)
echo FROZEN >"$V1_STATE"
echo 1 >"$V2_FREEZE"
for i in $(seq 1 50); do grep -q FROZEN "$V1_STATE" && grep -q 'frozen 1' "${V2_FREEZE%/*}/cgroup.events" && break; sleep 0.1; done
check "v1 freezer: FROZEN" grep -q FROZEN "$V1_STATE"
check "v2: cgroup.events frozen 1" grep -q 'frozen 1' "${V2_FREEZE%/*}/cgroup.events"
echo "/proc states while frozen: f_v1 $(for p in $(cat /sys/fs/cgroup/freezer/docker/${ID[f_v1]}/cgroup.procs); do cut -d' ' -f3 /proc/$p/stat; done | tr -d '\n'), f_v2 $(for p in $(cat ${V2_FREEZE%/*}/cgroup.procs); do cut -d' ' -f3 /proc/$p/stat; done | tr -d '\n')"
sleep 35
T_THAW=$(date +%s.%N)
echo THAWED >"$V1_STATE"
echo 0 >"$V2_FREEZE"
sleep 12
for pid in "${DAEMONS[@]}"; do COLLECTD_PID=$pid; stop_collectd; done

rows() { # rows VIEW NAME TYPE-INSTANCE FROM TO: "epoch value(s)" rows in [FROM, TO)
  local f
  f=$(ls -1 "$BASE/$1/csv/$TESTHOST/container-$2/$3"-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] && grep -v '^epoch' "$f" | awk -F, -v a="$4" -v b="$5" '$1 >= a && $1 < b'
}
all_zero() { # all_zero VIEW NAME TYPE-INSTANCE FROM TO
  rows "$@" | awk -F, '{ n++; if ($2 != 0) bad = 1 } END { exit bad || n == 0 }'
}
never_rises() { # never_rises VIEW NAME FROM TO: 1-minute load rows, at least 4
  rows "$1" "$2" load "$3" "$4" | awk -F, 'NR > 1 && $2 > p + 1e-9 { bad = 1 } { p = $2 } END { exit bad || NR < 4 }'
}
settle=$(awk -v t="$T_FREEZE" -v iv="$IV" 'BEGIN { printf "%.3f", t + iv + 5 + 1 }')
for view in hybrid v2; do
  names="f_v1 f_v2"
  [ "$view" = v2 ] && names=f_v2
  for n in $names; do
    before=$(rows "$view" "$n" ps_state-running 0 "$T_FREEZE" | tail -n 1 | cut -d, -f2)
    check "$view/$n: 3 running before the freeze (${before:-none})" awk -v v="${before:--1}" 'BEGIN { exit !(v == 3) }'
    check "$view/$n: running 0 while frozen" all_zero "$view" "$n" ps_state-running "$settle" "$T_THAW"
    check "$view/$n: blocked 0 while frozen" all_zero "$view" "$n" ps_state-blocked "$settle" "$T_THAW"
    l0=$(rows "$view" "$n" load 0 "$T_FREEZE" | tail -n 1 | cut -d, -f2)
    l1=$(rows "$view" "$n" load 0 "$T_THAW" | tail -n 1 | cut -d, -f2)
    echo "$view/$n: 1-minute load $l0 at the freeze, $l1 after 35 s frozen"
    check "$view/$n: load never rises while frozen" never_rises "$view" "$n" "$settle" "$T_THAW"
    check "$view/$n: load decays (<= 0.7 of $l0 after 35 s)" awk -v a="${l0:-0}" -v b="${l1:-99}" 'BEGIN { exit !(a > 1 && b <= 0.7 * a) }'
    after=$(rows "$view" "$n" ps_state-running "$T_THAW" 9e9 | tail -n 1 | cut -d, -f2)
    check "$view/$n: 3 running again after the thaw (${after:-none})" awk -v v="${after:--1}" 'BEGIN { exit !(v == 3) }'
  done
  WORK=$BASE/$view
  check "no ERROR lines ($view)" test -z "$(errors_in_log)"
done
WORK=$BASE
finish
