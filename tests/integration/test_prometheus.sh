#!/bin/bash
# A real Prometheus server (Debian's prometheus, 127.0.0.1, a data directory under the test's work
# directory, 1 s scrapes) scrapes collectd's write_prometheus, configured from
# contrib/writers/write_prometheus.conf. The container is a Docker-cgroupfs-layout cgroup with a
# busy loop (8 MB allocated first). The test asks the server's HTTP API with PromQL: the busy
# container's CPU rate (close to a core, and the same as the process's own CPU time from /proc),
# its memory and its load.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stores_lib.sh"
require_root
[ -x "$PROMETHEUS_BIN" ] || skip "prometheus is not installed ($PROMETHEUS_BIN); apt-get install prometheus"
[ -x "$PY" ] || skip "$PY missing; apt-get install python3"
# rate(...[30s]) averages over 30 s only once 30 s of samples exist: collect for longer.
WARMUP_SECONDS=4 WINDOW_SECONDS=30
NAME=prom_busy

make_workdir
trap 'stores_cleanup; cleanup' EXIT
require_writer write_prometheus
EXPORT_PORT=$(free_port tcp)
prom_start "$EXPORT_PORT" || { fail "prometheus starts"; finish; exit; }
echo "prometheus $("$PROMETHEUS_BIN" --version 2>&1 | awk 'NR==1{print $3}') on 127.0.0.1:$PROM_PORT," \
  "scraping write_prometheus on 127.0.0.1:$EXPORT_PORT"

busy_container "$NAME"
write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^prom_/\"" \
  "$(sed -e "s|# Host \"0.0.0.0\"|Host \"127.0.0.1\"|; s|Port \"9103\"|Port \"$EXPORT_PORT\"|" \
    "$TOP_SRCDIR/contrib/writers/write_prometheus.conf")"
check "write_prometheus listens on 127.0.0.1 only" \
  grep -q "^ *Host \"127.0.0.1\"" "$WORK/collectd.conf"
start_collectd || { fail "collectd starts"; finish; exit; }
sleep "$WARMUP_SECONDS"
# What the kernel charged the busy process over the same 30 s that rate() looks at.
T0=$(date +%s.%N)
CPU0=$(proc_cpu_us "$BUSY_PID")
sleep "$WINDOW_SECONDS"
T1=$(date +%s.%N)
CPU1=$(proc_cpu_us "$BUSY_PID")
proc_rate=$(awk -v a="$CPU0" -v b="$CPU1" -v t0="$T0" -v t1="$T1" 'BEGIN{printf "%.0f", (b - a) / (t1 - t0)}')

echo "--- metric names write_prometheus gives this container (from the server):"
prom_query "count by (__name__) ({container=\"$NAME\"})" | sed 's/^__name__=/  /; s/ [0-9]*$//' |
  tee "$WORK/names.txt" | head -n 40
check "the server has collectd_container_* series for $NAME ($(wc -l <"$WORK/names.txt") names)" \
  test "$(wc -l <"$WORK/names.txt")" -ge 10
check "the scrape target is up" test "$(prom_value 'up{job="collectd"}')" = 1

q="rate(collectd_container_ps_cputime_user_total{container=\"$NAME\"}[30s])"
user_rate=$(prom_value "$q")
q2="rate(collectd_container_ps_cputime_syst_total{container=\"$NAME\"}[30s])"
syst_rate=$(prom_value "$q2")
echo "PromQL $q = $user_rate (syst $syst_rate); the busy process's own CPU from /proc: $proc_rate us/s"
# A busy loop gets up to one core (1e6 us/s); on a loaded 2-core machine less. The server's rate
# must agree with what the kernel charged the process over the same 30 s (within 25 %).
check_about_a_core "prometheus: rate(ps_cputime_user[30s])" "$user_rate" "$proc_rate"
check "prometheus: user+syst rate $user_rate+$syst_rate within 25 % of /proc's $proc_rate us/s" \
  awk -v u="${user_rate:-0}" -v s="${syst_rate:-0}" -v p="$proc_rate" \
  'BEGIN{r = u + s; exit !(p > 0 && r >= 0.75 * p && r <= 1.25 * p)}'
mem=$(prom_value "collectd_container_memory{container=\"$NAME\",type=\"usage\"}")
total=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
check "prometheus: memory{type=usage} holds the 8 MB allocated (4 MB < $mem < MemTotal)" \
  awk -v m="${mem:-0}" -v t="$total" 'BEGIN{exit !(m > 4000000 && m < t)}'
load=$(prom_value "collectd_container_load_shortterm{container=\"$NAME\"}")
check "prometheus: load_shortterm of one busy loop is rising, in (0.2, 2]: $load" \
  awk -v l="${load:-0}" 'BEGIN{exit !(l > 0.2 && l <= 2)}'
running=$(prom_value "max_over_time(collectd_container_ps_state{container=\"$NAME\",type=\"running\"}[30s])")
# 1 for the loop; up to 3 while its shell still runs head and tr to allocate (slow when loaded).
check "prometheus: ps_state{type=running} reached 1 (1-3): $running" \
  awk -v r="${running:-0}" 'BEGIN{exit !(r >= 1 && r <= 3)}'
check "prometheus: instance label is collectd's Hostname ($TESTHOST)" \
  test "$(prom_value "count(collectd_container_load_shortterm{container=\"$NAME\",instance=\"$TESTHOST\"})")" = 1

# The Grafana dashboard's queries are run against the server in the runtime tests (runtime_lib.sh:
# check_dashboards), whose containers also have network namespaces and delay accounting on.

check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
check "no ERROR lines in collectd's log (but write_prometheus' MHD option notice)" test -z "$(collectd_errors)"
collectd_errors | head -5
finish
