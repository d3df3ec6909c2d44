#!/bin/bash
# A diagnosis without its inputs is not said (issue 18). CollectDelay false: no involuntary
# context switches, no CPU delay, so the rule table cannot tell "waits for a CPU". A starved
# container (two busy loops sharing CPU 1 with another container's two) then has no
# gauge-cpu_diagnosis list (standard) and a NaN diagnosis in container_delay, if that list is
# sent at all (compact); no cpu_diagnosis notification. One daemon per mode, 25 s.
. "$(dirname "$0")/lib.sh"
require_root
[ -d /sys/fs/cgroup/cpu ] || skip "needs the cgroup v1 cpu hierarchy at /sys/fs/cgroup/cpu"
[ "$(nproc)" -ge 2 ] || skip "needs 2 CPUs"
command -v taskset >/dev/null || skip "needs taskset"
TYPES="$TOP_SRCDIR/contrib/container-types.db"

make_workdir
BASE=$WORK
CTRL=(cpu cpuacct)
declare -A ID
for n in n_starved n_other; do
  ID[$n]=$(random_id)
  make_cgroup "docker/${ID[$n]}" "${CTRL[@]}"
  fake_docker_name "${ID[$n]}" "$n"
  for i in 1 2; do
    taskset -c 1 sh -c 'while :; do :; done' &
    PIDS_STARTED+=($!)
    move_pid $! "docker/${ID[$n]}" "${CTRL[@]}"
  done
done

DAEMONS=()
for mode in standard compact; do
  WORK=$BASE/$mode
  mkdir -p "$WORK/csv"
  cp -r "$BASE/plugins" "$WORK/"
  extra="" compact=""
  [ "$mode" = compact ] && extra="TypesDB \"$TYPES\"" && compact="  Compact true"
  write_config 1 "  DockerRoot \"$BASE/docker\"
  Container \"/^n_/\"
  CollectDelay false
  CollectMemory false
  CollectBlkio false
  CollectNetwork false
$compact" "$extra"
  start_collectd || { fail "collectd ($mode) starts"; finish; exit; }
  DAEMONS+=("$COLLECTD_PID")
  COLLECTD_PID=""
done
WORK=$BASE
echo "25 s..."
sleep 25
for pid in "${DAEMONS[@]}"; do COLLECTD_PID=$pid; stop_collectd; done

S=$BASE/standard/csv/$TESTHOST
C=$BASE/compact/csv/$TESTHOST
check "standard: ps_cputime flows (the daemon reads the container)" test -n "$(ls "$S/container-n_starved"/ps_cputime-* 2>/dev/null)"
check "standard: no gauge-cpu_diagnosis for the starved container" test -z "$(ls "$S/container-n_starved"/gauge-cpu_diagnosis-* 2>/dev/null)"
check "standard: no gauge-cpu_diagnosis for the other container" test -z "$(ls "$S/container-n_other"/gauge-cpu_diagnosis-* 2>/dev/null)"
check "compact: container_cpu flows" test -n "$(ls "$C/container-n_starved"/container_cpu-* 2>/dev/null)"
# container_delay, if sent: the diagnosis (last column) is NaN in every row
nan_only() {
  local f
  for f in "$C/container-$1"/container_delay-*; do
    [ -e "$f" ] || return 0
    grep -v '^epoch' "$f" | awk -F, '{ if (tolower($NF) != "nan") bad = 1 } END { exit bad }' || return 1
  done
}
check "compact: diagnosis NaN (or no container_delay) for the starved container" nan_only n_starved
check "compact: diagnosis NaN (or no container_delay) for the other container" nan_only n_other
for mode in standard compact; do
  WORK=$BASE/$mode
  check "$mode: no cpu_diagnosis notification" test -z "$(grep 'Notification:.*cpu_diagnosis\|Notification:.*CPU [a-z_]*throttled\|Notification:.*physical_cpu' "$WORK/collectd.log")"
  check "$mode: no ERROR lines" test -z "$(errors_in_log)"
done
WORK=$BASE
finish
