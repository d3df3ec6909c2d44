# Helpers for the tests against real metric stores (sourced after lib.sh): a Prometheus server
# (Debian's prometheus) that scrapes collectd's write_prometheus, and a carbon-cache (Debian's
# graphite-carbon) that write_graphite sends to. Every server is the test's own: bound to
# 127.0.0.1, its data and configuration under $WORK, stopped by stores_cleanup.
set -u

# CI installs every package these tests need: there a reason to skip is a failure.
if [ "${REAL_TESTS_REQUIRED:-0}" = 1 ]; then
  skip() { echo "FAIL (REAL_TESTS_REQUIRED=1, would skip): $*"; exit 1; }
fi

PY=/usr/bin/python3
PROMETHEUS_BIN=${PROMETHEUS_BIN:-/usr/bin/prometheus}
CARBON_BIN=${CARBON_BIN:-/usr/bin/carbon-cache}
STORE_PIDS=()
PROM_PORT="" PROM_EXPORT_PORT="" CARBON_PORT=""

free_port() { # free_port tcp|udp: a port the kernel says is free on 127.0.0.1 now
  "$PY" -c 'import socket, sys
s = socket.socket(type=socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

# Skips with the package to install when a writer plugin cannot load here.
require_writer() { # require_writer PLUGIN
  local so=/usr/lib/collectd/$1.so missing
  [ -f "$so" ] || skip "collectd plugin $so missing; apt-get install collectd-core"
  missing=$(ldd "$so" 2>/dev/null | awk '/not found/ {print $1}')
  [ -z "$missing" ] || skip "collectd's $1 cannot load: ${missing//$'\n'/, } not found (libmicrohttpd12, libprotobuf-c1)"
  cp "$so" "$WORK/plugins/"
}

# collectd 5.12's write_prometheus logs one ERROR with libmicrohttpd >= 0.9.71 about the order of
# its own options (harmless: it concerns MHD's logger only); every other ERROR line counts.
collectd_errors() { errors_in_log | grep -v 'MHD_OPTION_EXTERNAL_LOGGER is not the first option'; }

http_get() { # http_get URL: the body on stdout; fails on an HTTP error or no answer
  "$PY" -c 'import sys, urllib.request
sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' "$1" 2>/dev/null
}

# ---- a busy "container": a cgroup in Docker's cgroupfs layout named through a fake DockerRoot ----
# busy_container NAME: a busy loop that first allocates 8 MB, in docker/<random id> in every
# controller (v1, hybrid or v2). Sets BUSY_PID. Needs make_workdir.
busy_container() {
  local name=$1 id c ctl=()
  if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
    ctl=(.)
  else
    for c in cpu cpuacct memory blkio pids; do [ -d "/sys/fs/cgroup/$c" ] && ctl+=("$c"); done
    [ ${#ctl[@]} -ge 3 ] || skip "needs cgroup v1 controllers or cgroup v2 (found: ${ctl[*]:-none})"
    [ -d /sys/fs/cgroup/unified ] && ctl+=(unified)
  fi
  id=$(random_id)
  make_cgroup "docker/$id" "${ctl[@]}"
  if [ "${ctl[0]}" = . ]; then
    for c in cpu memory pids io; do echo "+$c" >/sys/fs/cgroup/docker/cgroup.subtree_control 2>/dev/null; done
  fi
  fake_docker_name "$id" "$name"
  # The subshell enters the cgroup before it allocates, so the 8 MB are charged to the container.
  (
    move_pid "$BASHPID" "docker/$id" "${ctl[@]}"
    exec sh -c 'x=$(head -c 8000000 /dev/zero | tr "\0" a); while :; do :; done'
  ) &
  BUSY_PID=$!
  PIDS_STARTED+=("$BUSY_PID")
}

# proc_cpu_us PID: the process's user+system CPU time in µs, from /proc/PID/stat (ticks).
proc_cpu_us() {
  awk -v hz="$(getconf CLK_TCK)" '{ sub(/.*\) /, ""); printf "%.0f", ($12 + $13) * 1e6 / hz }' "/proc/$1/stat"
}

# check_about_a_core WHAT RATE PROC_RATE: a busy loop's rate (µs/s) is about one core (0.6-1.1e6)
# when the kernel says the process got at least 0.7 of one (PROC_RATE); on a saturated machine
# only at most one core (the tests compare RATE with PROC_RATE as well).
check_about_a_core() {
  if awk -v p="$3" 'BEGIN{exit !(p >= 700000)}'; then
    check "$1 is about one core (0.6-1.1e6 us/s): $2" awk -v r="${2:-0}" 'BEGIN{exit !(r >= 600000 && r <= 1100000)}'
  else
    echo "note: this machine is saturated (the busy loop got only $3 us/s): the absolute rate is not judged"
    check "$1 is at most one core (0 < $2 <= 1.1e6 us/s)" awk -v r="${2:-0}" 'BEGIN{exit !(r > 0 && r <= 1100000)}'
  fi
}

# ---- Prometheus ----
# prom_start EXPORT_PORT: a Prometheus server on a free 127.0.0.1 port (PROM_PORT) that scrapes
# http://127.0.0.1:EXPORT_PORT/metrics every second, data in $WORK/prometheus. Returns 1 with its
# log when it is not ready within 30 s.
prom_start() {
  PROM_EXPORT_PORT=$1
  PROM_PORT=$(free_port tcp)
  mkdir -p "$WORK/prometheus"
  cat >"$WORK/prometheus.yml" <<YML
global:
  scrape_interval: 1s
  evaluation_interval: 1s
scrape_configs:
  - job_name: collectd
    honor_labels: true
    static_configs:
      - targets: ['127.0.0.1:$PROM_EXPORT_PORT']
YML
  "$PROMETHEUS_BIN" --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/prometheus" \
    --web.listen-address="127.0.0.1:$PROM_PORT" --log.level=warn >"$WORK/prometheus.log" 2>&1 &
  STORE_PIDS+=($!)
  local i
  for ((i = 0; i < 300; i++)); do
    http_get "http://127.0.0.1:$PROM_PORT/-/ready" >/dev/null && return 0
    kill -0 "${STORE_PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "prometheus did not become ready; its log:"; tail -n 20 "$WORK/prometheus.log"
  return 1
}

# prom_query PROMQL: one line per series of the instant vector, "LABELS VALUE" with LABELS as
# name=value,... sorted; nothing (and status 1) on an error answer.
prom_query() {
  "$PY" - "http://127.0.0.1:$PROM_PORT/api/v1/query" "$1" <<'PYEOF'
import json, sys, urllib.parse, urllib.request
url = sys.argv[1] + "?" + urllib.parse.urlencode({"query": sys.argv[2]})
try:
    ans = json.load(urllib.request.urlopen(url, timeout=10))
except Exception as e:
    print("query error: %s" % e, file=sys.stderr); sys.exit(1)
if ans.get("status") != "success":
    print("query error: %s" % ans, file=sys.stderr); sys.exit(1)
res = ans["data"]["result"]
if ans["data"]["resultType"] == "scalar":
    res = [{"metric": {}, "value": res}]
for r in res:
    labels = ",".join("%s=%s" % kv for kv in sorted(r["metric"].items()))
    print(labels or "{}", r["value"][1])
PYEOF
}

# prom_value PROMQL: the value of the first series (empty when none).
prom_value() { prom_query "$1" | head -n 1 | awk '{print $NF}'; }

# ---- carbon-cache (Graphite) ----
# carbon_start: a carbon-cache with its plaintext receiver on a free 127.0.0.1 port
# (CARBON_PORT), pickle and query ports off, whisper files under $WORK/graphite/whisper with
# 1-second points kept for an hour. Returns 1 with its log when it does not listen within 30 s.
carbon_start() {
  local g=$WORK/graphite
  CARBON_PORT=$(free_port tcp)
  mkdir -p "$g/whisper" "$g/log" "$g/run" "$g/conf"
  cat >"$g/conf/carbon.conf" <<CONF
[cache]
STORAGE_DIR = $g
LOCAL_DATA_DIR = $g/whisper
WHITELISTS_DIR = $g/lists
LOG_DIR = $g/log
PID_DIR = $g/run
DATABASE = whisper
ENABLE_LOGROTATION = False
USER =
MAX_CACHE_SIZE = inf
MAX_UPDATES_PER_SECOND = 10000
MAX_CREATES_PER_MINUTE = inf
LINE_RECEIVER_INTERFACE = 127.0.0.1
LINE_RECEIVER_PORT = $CARBON_PORT
ENABLE_UDP_LISTENER = False
PICKLE_RECEIVER_INTERFACE = 127.0.0.1
PICKLE_RECEIVER_PORT = 0
CACHE_QUERY_INTERFACE = 127.0.0.1
CACHE_QUERY_PORT = 0
LOG_LISTENER_CONNECTIONS = False
LOG_UPDATES = False
LOG_CREATES = False
WHISPER_AUTOFLUSH = True
ENABLE_TAGS = False
CONF
  cat >"$g/conf/storage-schemas.conf" <<CONF
[everything]
pattern = .*
retentions = 1s:1h
CONF
  cat >"$g/conf/storage-aggregation.conf" <<CONF
[default]
pattern = .*
xFilesFactor = 0
aggregationMethod = average
CONF
  "$CARBON_BIN" --config="$g/conf/carbon.conf" --pidfile="$g/run/carbon.pid" --nodaemon \
    --logdir="$g/log" start >"$WORK/carbon.out" 2>&1 &
  STORE_PIDS+=($!)
  local i
  for ((i = 0; i < 300; i++)); do
    "$PY" -c 'import socket, sys; socket.create_connection(("127.0.0.1", int(sys.argv[1])), 1).close()' \
      "$CARBON_PORT" 2>/dev/null && return 0
    kill -0 "${STORE_PIDS[-1]}" 2>/dev/null || break
    sleep 0.1
  done
  echo "carbon-cache did not listen on 127.0.0.1:$CARBON_PORT; its output:"
  tail -n 20 "$WORK/carbon.out" "$g/log/console.log" 2>/dev/null
  return 1
}

# whisper_points METRIC.PATH [SECONDS]: "TIMESTAMP VALUE" of the non-empty points of the last
# SECONDS (default 60) from its whisper file.
whisper_points() {
  local f=$WORK/graphite/whisper/${1//.//}.wsp
  [ -f "$f" ] || return 1
  "$PY" - "$f" "${2:-60}" <<'PYEOF'
import sys, time, whisper
(start, end, step), values = whisper.fetch(sys.argv[1], time.time() - int(sys.argv[2]))
for i, v in enumerate(values):
    if v is not None:
        print(start + i * step, v)
PYEOF
}

stores_cleanup() {
  local p
  for p in "${STORE_PIDS[@]}"; do kill -TERM "$p" 2>/dev/null; done
  for p in "${STORE_PIDS[@]}"; do
    for _ in $(seq 1 50); do kill -0 "$p" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$p" 2>/dev/null
    wait "$p" 2>/dev/null
  done
  STORE_PIDS=()
}
