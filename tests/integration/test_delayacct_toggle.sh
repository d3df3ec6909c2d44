#!/bin/bash
# Counters are never reset (issue 18): kernel.task_delayacct switched off mid-run (and on again)
# makes no counter go down, in standard lists and in compact mode. A container with a busy loop
# and a process that sleeps 10 ms in a loop (voluntary context switches) sharing CPU 1 with
# another busy loop (involuntary ones and CPU delay). Delay accounting on 12 s, off 12 s, on 10 s.
# Standard: every DERIVE series (total_time_in_ms-delay_*, contextswitch-*) never decreases
# (a series whose source went away is not sent); compact: every DERIVE column of
# container_delay never decreases (a counter whose source went away keeps its last value).
. "$(dirname "$0")/lib.sh"
require_root
[ -d /sys/fs/cgroup/cpu ] || skip "needs the cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu"
[ -f /proc/sys/kernel/task_delayacct ] || skip "kernel without kernel.task_delayacct"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
command -v taskset >/dev/null || skip "needs taskset"
TYPES="$TOP_SRCDIR/contrib/container-types.db"

make_workdir
BASE=$WORK
ORIG_DELAYACCT=$(cat /proc/sys/kernel/task_delayacct)
trap 'echo "$ORIG_DELAYACCT" >/proc/sys/kernel/task_delayacct; cleanup' EXIT
echo 1 >/proc/sys/kernel/task_delayacct

CTRL=(cpu cpuacct)
ID=$(random_id)
make_cgroup "docker/$ID" "${CTRL[@]}"
fake_docker_name "$ID" t_toggle
for cmd in 'while :; do :; done' 'while :; do sleep 0.01; done'; do
  taskset -c 1 sh -c "$cmd" &
  PIDS_STARTED+=($!)
  move_pid $! "docker/$ID" "${CTRL[@]}"
done
taskset -c 1 sh -c 'while :; do :; done' &
PIDS_STARTED+=($!)

DAEMONS=()
for mode in standard compact; do
  WORK=$BASE/$mode
  mkdir -p "$WORK/csv"
  cp -r "$BASE/plugins" "$WORK/"
  extra="" compact=""
  [ "$mode" = compact ] && extra="TypesDB \"$TYPES\"" && compact="  Compact true"
  write_config 1 "  DockerRoot \"$BASE/docker\"
  Container \"/^t_/\"
  CollectMemory false
  CollectBlkio false
  CollectNetwork false
$compact" "$extra"
  start_collectd || { fail "collectd ($mode) starts"; finish; exit; }
  DAEMONS+=("$COLLECTD_PID")
  COLLECTD_PID=""
done
WORK=$BASE
sleep 12
echo 0 >/proc/sys/kernel/task_delayacct
T_OFF=$(date +%s)
sleep 12
echo 1 >/proc/sys/kernel/task_delayacct
T_ON=$(date +%s)
sleep 10
for pid in "${DAEMONS[@]}"; do COLLECTD_PID=$pid; stop_collectd; done
echo "$ORIG_DELAYACCT" >/proc/sys/kernel/task_delayacct

S=$BASE/standard/csv/$TESTHOST/container-t_toggle
C=$BASE/compact/csv/$TESTHOST/container-t_toggle
# never_decreases FILE: every numeric column from the 2nd on never goes down from row to row
# never_decreases FILE [LAST_COLUMN]: columns 2..LAST (default: all) never go down.
never_decreases() {
  grep -v '^epoch' "$1" | awk -F, -v last="${2:-0}" '{ n = last > 0 ? last : NF
    for (i = 2; i <= n; i++) if ($i != "nan" && NR > 1 && p[i] != "nan" && $i + 0 < p[i] + 0) { bad = 1; printf "column %d: %s -> %s at %s\n", i, p[i], $i, $1 }
    for (i = 2; i <= n; i++) p[i] = $i } END { exit bad || NR < 2 }'
}
n=0
for f in "$S"/total_time_in_ms-delay_*-* "$S"/contextswitch-*-*; do
  [ -e "$f" ] || continue
  n=$((n + 1))
  ti=$(basename "$f"); ti=${ti%-*-*-*}
  check "standard: $ti never decreases" never_decreases "$f"
done
check "standard: delay and context-switch series found ($n)" test "$n" -ge 4
m=0
for f in "$C"/container_delay-*; do
  [ -e "$f" ] || continue
  m=$((m + 1))
  # columns 2-11: the 8 delays and 2 context-switch counters (12 is the cpu_diagnosis gauge)
  check "compact: container_delay $(basename "$f") counters never decrease" never_decreases "$f" 11
done
check "compact: container_delay found ($m)" test "$m" -ge 1
# While off: in compact mode the delay columns keep their last value, not 0.
zero_while_off() {
  local f
  for f in "$C"/container_delay-*; do
    [ -e "$f" ] || continue
    grep -v '^epoch' "$f" | awk -F, -v a="$T_OFF" -v b="$T_ON" '$1 >= a + 2 && $1 < b && $2 == 0 { z = 1 } END { exit !z }' && return 0
  done
  return 1
}
not_zero_while_off() { ! zero_while_off; }
check "compact: delay_cpu not sent as 0 while delay accounting is off" not_zero_while_off
for mode in standard compact; do
  WORK=$BASE/$mode
  check "$mode: no ERROR lines" test -z "$(errors_in_log)"
done
WORK=$BASE
check "sysctl restored" test "$(cat /proc/sys/kernel/task_delayacct)" = "$ORIG_DELAYACCT"
finish
