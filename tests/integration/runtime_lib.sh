# Helpers for the tests on real container runtimes (Podman, LXC, containerd), sourced after lib.sh
# and stores_lib.sh. Each test starts its runtime with everything under $WORK, runs a named busy
# container (a busy loop and pings to 127.0.0.1 inside its own network namespace), runs collectd
# with CSV, write_prometheus (scraped by a real Prometheus) and write_graphite (to a real
# carbon-cache), and checks the container by the name the runtime gave it.
set -u

BUSYBOX_BIN=${BUSYBOX_BIN:-/bin/busybox}

require_busybox() {
  [ -x "$BUSYBOX_BIN" ] || skip "busybox-static is not installed ($BUSYBOX_BIN); apt-get install busybox-static"
  if LC_ALL=C ldd "$BUSYBOX_BIN" >/dev/null 2>&1; then
    skip "$BUSYBOX_BIN is dynamically linked; apt-get install busybox-static"
  fi
}

# busybox_rootfs DIR: /bin/busybox and a link per applet, /tmp, mount points.
busybox_rootfs() {
  local root=$1 a
  mkdir -p "$root/bin" "$root/tmp" "$root/proc" "$root/sys" "$root/dev" "$root/etc"
  chmod 1777 "$root/tmp"
  cp "$BUSYBOX_BIN" "$root/bin/busybox"
  for a in $("$BUSYBOX_BIN" --list); do
    [ "$a" = busybox ] || ln -sf busybox "$root/bin/$a"
  done
}

# The busy container's command: lo up (LXC leaves it down), 1000-byte pings to its own loopback (5 a second) and a busy loop.
BUSY_CMD='ip link set lo up 2>/dev/null; ping -q -i 0.2 -s 1000 127.0.0.1 >/dev/null & while :; do :; done'

# Paths a runtime creates outside $WORK: remember those that do not exist yet (before the
# runtime starts), remove them at the end.
MADE_OUTSIDE=()
remember_outside() { local p; for p in "$@"; do [ -e "$p" ] || MADE_OUTSIDE+=("$p"); done; }
remove_outside() {
  local i
  for ((i = ${#MADE_OUTSIDE[@]} - 1; i >= 0; i--)); do rm -rf "${MADE_OUTSIDE[$i]}"; done
  MADE_OUTSIDE=()
}

# cgroup_kill_rmdir DIR...: kills what is left in each cgroup directory, then removes it (deepest
# first: pass the children before the parents).
cgroup_kill_rmdir() {
  local d t
  for d in "$@"; do
    [ -d "$d" ] || continue
    for t in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -KILL "$t" 2>/dev/null; done
  done
  sleep 0.2
  for d in "$@"; do [ -d "$d" ] && rmdir "$d" 2>/dev/null; done
  return 0
}

# processes_with STRING: PIDs whose command line contains STRING (not this shell).
processes_with() {
  local p args
  for p in /proc/[0-9]*; do
    p=${p#/proc/}
    [ "$p" = $$ ] && continue
    mapfile -d '' args 2>/dev/null <"/proc/$p/cmdline" || continue
    [[ "${args[*]}" == *"$1"* ]] && echo "$p"
  done
}

# umount_under DIR: everything mounted at or below DIR, deepest first.
umount_under() {
  local m p
  for ((p = 0; p < 3; p++)); do
    m=$(awk -v w="$1" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r)
    [ -z "$m" ] && break
    for d in $m; do umount "$d" 2>/dev/null || umount -l "$d" 2>/dev/null; done
  done
}

# ---- collectd with the three stores ----
# runtime_collectd PLUGIN_BLOCK_BODY: starts Prometheus and carbon-cache (when installed, else
# STORES=0) and collectd with csv, write_prometheus and write_graphite.
STORES=1
DELAYACCT_ORIG=""
# Delay accounting on for the run (the dashboards' CPU wait panel), as it was afterwards.
restore_delayacct() {
  [ -n "$DELAYACCT_ORIG" ] && echo "$DELAYACCT_ORIG" >/proc/sys/kernel/task_delayacct
  DELAYACCT_ORIG=""
}
runtime_collectd() {
  local extra=""
  if [ -w /proc/sys/kernel/task_delayacct ]; then
    DELAYACCT_ORIG=$(cat /proc/sys/kernel/task_delayacct)
    echo 1 >/proc/sys/kernel/task_delayacct
  fi
  if [ -x "$PROMETHEUS_BIN" ] && [ -x "$CARBON_BIN" ] && "$PY" -c 'import whisper' 2>/dev/null; then
    require_writer write_prometheus
    require_writer write_graphite
    local export_port
    export_port=$(free_port tcp)
    prom_start "$export_port" || return 1
    carbon_start || return 1
    extra="LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host \"127.0.0.1\"
  Port \"$export_port\"
</Plugin>
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node \"carbon\">
    Host \"127.0.0.1\"
    Port \"$CARBON_PORT\"
    Protocol \"tcp\"
  </Node>
</Plugin>"
  else
    STORES=0
    echo "prometheus / graphite-carbon / python3-whisper not installed: the stores are not checked"
    [ "${REAL_TESTS_REQUIRED:-0}" = 1 ] && fail "the stores are required (REAL_TESTS_REQUIRED=1)"
  fi
  write_config 1 "$1" "$extra"
  start_collectd
}

# ---- checks by container name ----
# csv_window_rate NAME T0 T1: user+syst µs/s of the ps_cputime rows between T0 and T1.
csv_window_rate() {
  csv_rows "$1" ps_cputime | awk -F, -v a="$2" -v b="$3" '$1 >= a && $1 <= b {
    if (!n++) { t0 = $1; c0 = $2 + $3 } t = $1; c = $2 + $3 }
    END { if (t > t0) printf "%.0f", (c - c0) / (t - t0); else print -1 }'
}

# check_busy NAME PID SECONDS: CPU, memory and loopback counters of the busy container, whose
# busy loop is PID (a process in the container), over a window of SECONDS.
check_busy() {
  local name=$1 pid=$2 secs=$3 t0 t1 c0 c1 proc_rate rate
  check "$name: values appear as container-$name" wait_for_csv "$name" ps_cputime 2 20
  t0=$(date +%s.%N) c0=$(proc_cpu_us "$pid")
  sleep "$secs"
  t1=$(date +%s.%N) c1=$(proc_cpu_us "$pid")
  sleep 1.5
  proc_rate=$(awk -v a="$c0" -v b="$c1" -v t0="$t0" -v t1="$t1" 'BEGIN{printf "%.0f", (b - a) / (t1 - t0)}')
  rate=$(csv_window_rate "$name" "$t0" "$t1")
  # The container's CPU time includes its pings (little) besides the busy loop.
  # The busy loop gets up to a core, on a shared machine less: it must agree with the kernel's
  # count for the process over the same seconds.
  check "$name: ps_cputime $rate us/s is its busy loop's $proc_rate us/s (within 25 % + 0.02 core)" \
    awk -v r="$rate" -v p="$proc_rate" 'BEGIN{exit !(p > 0 && r >= 0.75 * p && r <= 1.25 * p + 20000)}'
  local mem
  mem=$(csv_rows "$name" memory-usage | tail -n 1 | cut -d, -f2)
  check "$name: memory-usage is there and sane (0 < ${mem:-none} < 1 GB)" \
    awk -v m="${mem:-0}" 'BEGIN{exit !(m > 0 && m < 1e9)}'
  local load
  load=$(csv_rows "$name" load | tail -n 1 | cut -d, -f2)
  check "$name: load shortterm is rising (${load:-none} > 0.05)" awk -v l="${load:-0}" 'BEGIN{exit !(l > 0.05)}'
  local rx
  rx=$(csv_rows "$name" if_octets-lo | awk -F, 'NR == 1 {a = $2} {b = $2} END {printf "%.0f", b - a}')
  check "$name: if_octets-lo grows with its pings (+${rx:-0} bytes rx; 5 x 1028 a second)" \
    awk -v x="${rx:-0}" -v s="$secs" 'BEGIN{exit !(x >= 2000 * s)}'
  # The counter agrees with the kernel's, read in the container's namespace around a read.
  if command -v nsenter >/dev/null && command -v ip >/dev/null; then
    local r1 r2 row c i tr
    r1=$(nsenter -t "$pid" -n ip -s link show lo | awk '/RX:/{getline; print $1}')
    tr=$(awk -v t="$(date +%s.%N)" 'BEGIN{printf "%.3f", t + 0.2}')
    row=""
    for ((i = 0; i < 40; i++)); do
      row=$(csv_rows "$name" if_octets-lo | awk -F, -v t="$tr" '$1 > t {print; exit}')
      [ -n "$row" ] && break
      sleep 0.1
    done
    r2=$(nsenter -t "$pid" -n ip -s link show lo | awk '/RX:/{getline; print $1}')
    c=$(echo "$row" | cut -d, -f2 | cut -d. -f1)
    check "$name: lo rx ${c:-?} lies between ip -s link's readings $r1 and $r2 in its namespace" \
      eval '[ -n "$c" ] && [ "$r1" -le "$c" ] && [ "$c" -le "$r2" ]'
  fi
}

# check_stores NAME: the container is in Prometheus (container="NAME") and in carbon's whisper
# files (HOST.container-NAME); prints how it looks there.
check_stores() {
  [ "$STORES" = 1 ] || return 0
  local name=$1 n
  echo "--- $name in Prometheus:"
  prom_query "{container=\"$name\",__name__=~\"collectd_container_(load_shortterm|ps_cputime_user_total|memory)\",type=~\"|usage\"}" |
    tee "$WORK/prom-$name.txt" | sed 's/^/  /'
  check "prometheus: $name's load, CPU and memory series are there" test "$(wc -l <"$WORK/prom-$name.txt")" -eq 3
  n=$(prom_value "rate(collectd_container_ps_cputime_user_total{container=\"$name\"}[10s])")
  check "prometheus: rate(ps_cputime_user[10s]) of $name is at most a core (0 < ${n:-none} <= 1.1e6)" \
    awk -v r="${n:-0}" 'BEGIN{exit !(r > 0 && r <= 1100000)}'
  echo "--- $name in Graphite (whisper):"
  local p=$TESTHOST.container-$name
  for m in load.shortterm ps_cputime.user memory-usage; do
    echo "  $p.$m $(whisper_points "$p.$m" 10 | tail -n 1 | awk '{print $2, $1}')"
  done
  n=$(whisper_points "$p.ps_cputime.user" 10 | tail -n 1 | awk '{print $2}')
  check "graphite: $p.ps_cputime.user is at most a core (0 < ${n:-none} <= 1.1e6)" \
    awk -v r="${n:-0}" 'BEGIN{exit !(r > 0 && r <= 1100000)}'
}

# check_dashboards NAME: every panel query of contrib/grafana's two dashboards, with Grafana's
# variables set to this host and container, answers with series of NAME from the real servers
# (Prometheus' HTTP API; graphite-web's render API over carbon's whisper files).
check_dashboards() {
  [ "$STORES" = 1 ] || return 0
  local name=$1 dash=$TOP_SRCDIR/contrib/grafana title expr n
  "$PY" -c 'import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p["targets"]:
        print(p["title"] + "\t" + t[sys.argv[2]])' "$dash/collectd-container-prometheus.json" expr >"$WORK/dash-prom.tsv" ||
    fail "the Prometheus dashboard is valid JSON with panels"
  while IFS=$'\t' read -r title expr; do
    expr=${expr//\$__rate_interval/10s}
    expr=${expr//\$container/$name}
    expr=${expr//\$instance/$TESTHOST}
    prom_query "$expr" | grep "container=${name}[,} ]" >"$WORK/dash-answer.txt"
    n=$(wc -l <"$WORK/dash-answer.txt")
    check "Prometheus dashboard '$title': $n series of $name" test "$n" -ge 1
    if [ "$title" = "CPU (cores)" ]; then
      n=$(awk '{print $NF; exit}' "$WORK/dash-answer.txt")
      check "Prometheus dashboard '$title': $name uses CPU (0 < $n <= 1.1 core)" \
        awk -v c="${n:-0}" 'BEGIN{exit !(c > 0 && c <= 1.1)}'
    fi
  done <"$WORK/dash-prom.tsv"
  if ! "$PY" -c 'import graphite.settings' 2>/dev/null; then
    fail "graphite-web is not installed: the Graphite dashboard is not checked (apt-get install graphite-web)"
    return
  fi
  "$PY" -c 'import json, sys
for p in json.load(open(sys.argv[1]))["panels"]:
    for t in p["targets"]:
        print(p["title"] + "\t" + t[sys.argv[2]])' "$dash/collectd-container-graphite.json" target >"$WORK/dash-graphite.tsv" ||
    fail "the Graphite dashboard is valid JSON with panels"
  local targets=()
  while IFS=$'\t' read -r title expr; do
    expr=${expr//\$container/$name}
    targets+=("${expr//\$host/$TESTHOST}")
  done <"$WORK/dash-graphite.tsv"
  "$PY" "$TOP_SRCDIR/tests/integration/graphite_render.py" "$WORK/graphite" "$WORK/dash-graphite.out" count \
    -5min "${targets[@]}" 2>"$WORK/dash-graphite.err" || fail "graphite-web renders: $(tail -n 3 "$WORK/dash-graphite.err")"
  local i=0 series points target
  while IFS=$'\t' read -r title _; do
    read -r series points target <<<"$(sed -n "$((i + 1))p" "$WORK/dash-graphite.out" | tr '\t' ' ')"
    check "Graphite dashboard '$title': ${series:-0} series, ${points:-0} points ($target)" \
      eval '[ "${series:-0}" -ge 1 ] && [ "${points:-0}" -ge 3 ]'
    i=$((i + 1))
  done <"$WORK/dash-graphite.tsv"
}

# check_gone NAME: after the container was removed: the "disappeared" notification, no new rows.
check_gone() {
  local name=$1 r1 r2
  check "\"container disappeared: $name\" notification" wait_log "container disappeared: $name " 10
  r1=$(csv_rows "$name" ps_cputime | wc -l)
  sleep 2.5
  r2=$(csv_rows "$name" ps_cputime | wc -l)
  check "$name's values stop ($r1 -> $r2 rows)" test "$r1" -eq "$r2"
}
