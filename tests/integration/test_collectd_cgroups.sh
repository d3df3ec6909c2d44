#!/bin/bash
# A real collectd loads the plugin; the test makes Docker-cgroupfs-layout cgroups with a busy loop
# in one and a sleeper in another, names them through a fake DockerRoot, and reads collectd's CSV.
. "$(dirname "$0")/lib.sh"
require_root
require_v1_controllers

make_workdir
BUSY_ID=$(random_id)
SLEEP_ID=$(random_id)
make_cgroup "docker/$BUSY_ID" "${CONTROLLERS[@]}"
make_cgroup "docker/$SLEEP_ID" "${CONTROLLERS[@]}"
fake_docker_name "$BUSY_ID" itest_busy
fake_docker_name "$SLEEP_ID" itest_sleeper

sh -c 'while :; do :; done' &
BUSY_PID=$!
PIDS_STARTED+=("$BUSY_PID")
sleep 600 &
SLEEP_PID=$!
PIDS_STARTED+=("$SLEEP_PID")
move_pid "$BUSY_PID" "docker/$BUSY_ID" "${CONTROLLERS[@]}"
move_pid "$SLEEP_PID" "docker/$SLEEP_ID" "${CONTROLLERS[@]}"

write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^itest_/\""
start_collectd || { fail "collectd starts"; finish; exit; }
# The kernel's own accounting of the busy process, to compare with over the same period.
# Sampled with bash builtins only (no fork between the clock and the read), as "time ticks".
sample_busy() {
  local line f
  while read -r line </proc/"$BUSY_PID"/stat 2>/dev/null; do
    f=(${line##*) })
    echo "$EPOCHREALTIME $((f[11] + f[12]))"
    sleep 0.25
  done
}
sample_busy >"$WORK/busy-proc.txt" 2>/dev/null &
PIDS_STARTED+=("$!")

check "busy container's ps_cputime appears" wait_for_csv itest_busy ps_cputime 8 20
check "sleeper's ps_cputime appears" wait_for_csv itest_sleeper ps_cputime 8 20

# CPU rate over the rows: (user+syst) delta / time delta, in µs per second.
cpu_rate() {
  csv_rows "$1" ps_cputime | awk -F, 'NR==1{t0=$1; c0=$2+$3} {t=$1; c=$2+$3} END{ if (t>t0) printf "%.0f", (c-c0)/(t-t0); else print -1 }'
}
busy_rate=$(cpu_rate itest_busy)
sleep_rate=$(cpu_rate itest_sleeper)
# The process's CPU time at the first and last CSV rows' times, from the samples taken meanwhile.
read -r t_first t_last < <(csv_rows itest_busy ps_cputime | awk -F, 'NR==1{a=$1} {b=$1} END{print a, b}')
sleep 1 # so that the sampler has passed the last row's time
proc_rate=$(awk -v t0="$t_first" -v t1="$t_last" '
  function at(t,   i) { for (i = 2; i <= n; i++) if (T[i] >= t) return C[i-1] + (C[i]-C[i-1]) * (t-T[i-1]) / (T[i]-T[i-1]); return -1 }
  { n++; T[n] = $1; C[n] = $2 }
  END { a = at(t0); b = at(t1); if (a < 0 || b < 0 || t1 <= t0) print -1; else printf "%.0f", (b-a)*1000000/hz/(t1-t0) }' \
  hz="$(getconf CLK_TCK)" "$WORK/busy-proc.txt")
echo "busy container: $busy_rate us/s of CPU (the kernel says the busy process used $proc_rate us/s); sleeper: $sleep_rate us/s"
# About one core on a quiet machine; on a loaded one the busy loop gets less, so the plugin's
# rate is checked against the kernel's per-process accounting too.
if awk -v p="$proc_rate" 'BEGIN{exit !(p >= 700000)}'; then
  check "busy container uses about one core (0.6-1.1 x 10^6 us/s)" \
    awk -v r="$busy_rate" 'BEGIN{exit !(r >= 600000 && r <= 1100000)}'
else
  skip_part "this machine is saturated (the busy loop got only $proc_rate us/s): the absolute rate is not judged"
  check "busy container's rate is at most one core" awk -v r="$busy_rate" 'BEGIN{exit !(r <= 1100000)}'
fi
check "busy container's rate agrees with the process's own CPU time (+-15 % + 0.03 core)" \
  awk -v r="$busy_rate" -v p="$proc_rate" 'BEGIN{d=r-p; if(d<0)d=-d; exit !(p > 0 && d <= 0.15*p + 30000)}'
check "sleeper uses almost no CPU (< 20000 us/s)" awk -v r="$sleep_rate" 'BEGIN{exit !(r >= 0 && r < 20000)}'

if [ -d /sys/fs/cgroup/memory ]; then
  check "memory-usage present" test -n "$(csv_file itest_busy memory-usage)"
  check "memory-anon present" test -n "$(csv_file itest_busy memory-anon)"
  check "no memory-limit for an unlimited container" test -z "$(csv_file itest_busy memory-limit)"
fi
if [ -d /sys/fs/cgroup/pids ]; then
  check "count-pids of the sleeper is 1" \
    test "$(csv_rows itest_sleeper count-pids | tail -n 1 | cut -d, -f2 | cut -d. -f1)" = 1
fi
if [ -d /sys/fs/cgroup/unified ]; then
  check "PSI stall time from the unified tree" test -n "$(csv_file itest_busy total_time_in_ms-pressure_cpu_some)"
fi
# No quota: CFS never throttles, so its three lists are left out.
check "no CFS lists without a quota" test -z "$(csv_file itest_busy operations-cfs_periods)"

# Remove the sleeper mid-run: its callback goes away without ERROR lines.
kill -9 "$SLEEP_PID"; wait "$SLEEP_PID" 2>/dev/null
for c in "${CONTROLLERS[@]}"; do rmdir "/sys/fs/cgroup/$c/docker/$SLEEP_ID"; done
sleep 3
before=$(csv_rows itest_sleeper ps_cputime | wc -l)
busy_before=$(csv_rows itest_busy ps_cputime | wc -l)
sleep 3
after=$(csv_rows itest_sleeper ps_cputime | wc -l)
busy_after=$(csv_rows itest_busy ps_cputime | wc -l)
check "removed container's values stop ($before -> $after rows)" test "$before" -eq "$after"
check "the other container keeps flowing ($busy_before -> $busy_after rows)" test "$busy_after" -gt "$busy_before"
check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
errors_in_log | head -5
check "a 'container disappeared' notification was logged" \
  grep -q "container disappeared: itest_sleeper" "$WORK/collectd.log"
finish
