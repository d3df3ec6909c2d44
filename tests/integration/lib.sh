# Shared helpers for the integration tests (sourced). Each test runs a real collectd daemon that
# loads the built plugin, with CSV output in a temporary directory.
set -u

: "${TOP_SRCDIR:=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)}"
: "${PLUGIN_SO:=$TOP_SRCDIR/.libs/container.so}"
COLLECTD_BIN=${COLLECTD_BIN:-/usr/sbin/collectd}
TESTHOST=testhost
FAILED=0
CHECKS=0

skip() { echo "SKIP: $*"; exit 77; }
# A part of the test that cannot run here: tests/run-all counts and names each such line.
skip_part() { echo "SKIP-PART: $(basename "$0"): $*"; }
fail() { echo "FAIL: $*"; FAILED=$((FAILED + 1)); CHECKS=$((CHECKS + 1)); }
pass() { echo "ok: $*"; CHECKS=$((CHECKS + 1)); }
check() { # check DESCRIPTION COMMAND...
  local what=$1; shift
  if "$@"; then pass "$what"; else fail "$what"; fi
}
finish() {
  echo "$(basename "$0"): $CHECKS checks, $FAILED failed"
  [ "$FAILED" -eq 0 ]
}

require_root() {
  [ "$(id -u)" -eq 0 ] || skip "needs root (creates cgroups and runs collectd)"
  [ -x "$COLLECTD_BIN" ] || skip "collectd not installed ($COLLECTD_BIN); apt-get install collectd-core"
  [ -f "$PLUGIN_SO" ] || { echo "FAIL: plugin not built: $PLUGIN_SO"; exit 1; }
}

WORK=""
COLLECTD_PID=""
CGROUPS_MADE=()
PIDS_STARTED=()

cleanup() {
  stop_collectd
  local p
  for p in "${PIDS_STARTED[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${PIDS_STARTED[@]}"; do wait "$p" 2>/dev/null; done
  local i
  # Remove deepest first.
  for ((i = ${#CGROUPS_MADE[@]} - 1; i >= 0; i--)); do
    rmdir "${CGROUPS_MADE[$i]}" 2>/dev/null
  done
  [ -n "$WORK" ] && [ -z "${KEEP_WORK:-}" ] && rm -rf "$WORK"
  return 0
}

make_workdir() {
  WORK=$(mktemp -d /tmp/collectd-container-test.XXXXXX)
  mkdir -p "$WORK/plugins" "$WORK/csv" "$WORK/docker/containers"
  # collectd refuses a plugin that is a symlink: copy it.
  cp "$PLUGIN_SO" "$WORK/plugins/container.so"
  for p in csv logfile; do cp "/usr/lib/collectd/$p.so" "$WORK/plugins/"; done
  trap cleanup EXIT
}

# write_config INTERVAL PLUGIN_BLOCK_BODY [EXTRA_TOP_LEVEL]; READ_THREADS (default 4).
write_config() {
  cat >"$WORK/collectd.conf" <<CONF
Hostname "$TESTHOST"
FQDNLookup false
Interval $1
PluginDir "$WORK/plugins"
BaseDir "$WORK"
TypesDB "/usr/share/collectd/types.db"
ReadThreads ${READ_THREADS:-4}
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$WORK/collectd.log"
  Timestamp true
  PrintSeverity true
</Plugin>
LoadPlugin csv
<Plugin csv>
  DataDir "$WORK/csv"
  StoreRates false
</Plugin>
${3:-}
LoadPlugin container
<Plugin container>
$2
</Plugin>
CONF
}

start_collectd() {
  ${COLLECTD_WRAPPER:-} "$COLLECTD_BIN" -f -C "$WORK/collectd.conf" -P "$WORK/collectd.pid" \
    >"$WORK/collectd.stdout" 2>&1 &
  COLLECTD_PID=$!
  sleep 0.5
  kill -0 "$COLLECTD_PID" 2>/dev/null || {
    echo "collectd did not start:"; cat "$WORK/collectd.stdout" "$WORK/collectd.log" 2>/dev/null
    return 1
  }
}

stop_collectd() {
  [ -n "$COLLECTD_PID" ] || return 0
  kill -TERM "$COLLECTD_PID" 2>/dev/null
  local i
  for i in $(seq 1 100); do
    kill -0 "$COLLECTD_PID" 2>/dev/null || break
    sleep 0.2
  done
  kill -9 "$COLLECTD_PID" 2>/dev/null
  wait "$COLLECTD_PID" 2>/dev/null
  COLLECTD_STATUS=$?
  COLLECTD_PID=""
}

# csv_file INSTANCE TYPE-INSTANCE: the newest CSV file collectd wrote for it.
csv_file() {
  ls -1 "$WORK/csv/$TESTHOST/container-$1/$2"-* 2>/dev/null | tail -n 1
}

# csv_rows INSTANCE TYPE-INSTANCE: data rows (no header) of that file.
csv_rows() {
  local f
  f=$(csv_file "$1" "$2")
  [ -n "$f" ] && grep -v '^epoch' "$f"
}

# wait_for_csv INSTANCE TYPE-INSTANCE MIN_ROWS TIMEOUT_S
wait_for_csv() {
  local i n
  for ((i = 0; i < $4 * 5; i++)); do
    n=$(csv_rows "$1" "$2" | wc -l)
    [ "$n" -ge "$3" ] && return 0
    sleep 0.2
  done
  return 1
}

# Creates a cgroup at REL in every v1 controller named and in the unified tree; prints nothing.
make_cgroup() { # make_cgroup REL CONTROLLER...
  local rel=$1 c; shift
  for c in "$@"; do
    local d="/sys/fs/cgroup/$c/$rel"
    if [ ! -d "$d" ]; then
      # Parents first, remembered for cleanup.
      local parent
      parent=$(dirname "$d")
      [ -d "$parent" ] || { mkdir -p "$parent" && CGROUPS_MADE+=("$parent"); }
      mkdir "$d" && CGROUPS_MADE+=("$d")
    fi
  done
}

# move_pid PID REL CONTROLLER...
move_pid() {
  local pid=$1 rel=$2 c; shift 2
  for c in "$@"; do echo "$pid" >"/sys/fs/cgroup/$c/$rel/cgroup.procs"; done
}

fake_docker_name() { # fake_docker_name ID NAME
  mkdir -p "$WORK/docker/containers/$1"
  printf '{"ID":"%s","Name":"/%s","State":{"Running":true}}' "$1" "$2" \
    >"$WORK/docker/containers/$1/config.v2.json"
}

# require_v1_controllers: CONTROLLERS = the v1 controllers the plugin reads (at least 3, else the
# test is skipped) plus "unified" on a hybrid host.
require_v1_controllers() {
  local c
  CONTROLLERS=()
  for c in cpu cpuacct memory blkio pids; do [ -d "/sys/fs/cgroup/$c" ] && CONTROLLERS+=("$c"); done
  [ ${#CONTROLLERS[@]} -ge 3 ] || skip "needs cgroup v1 controllers under /sys/fs/cgroup (found: ${CONTROLLERS[*]:-none})"
  [ -d /sys/fs/cgroup/unified ] && CONTROLLERS+=(unified)
  return 0
}

random_id() { head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n'; }

errors_in_log() { grep -E '\[(error|ERROR)\]' "$WORK/collectd.log" 2>/dev/null; }

# start_both_modes PLUGIN_BLOCK_BODY: one collectd (Interval 1) in $BASE/standard and one in
# $BASE/compact, the same block plus "Compact true" and the compact types; PIDs in DAEMONS.
# $BASE/plugins holds the plugins (make_workdir's). WORK is $BASE again afterwards.
start_both_modes() {
  DAEMONS=()
  local mode extra compact
  for mode in standard compact; do
    WORK=$BASE/$mode
    mkdir -p "$WORK/csv"
    cp -r "$BASE/plugins" "$WORK/"
    extra="" compact=""
    [ "$mode" = compact ] && extra="TypesDB \"$TOP_SRCDIR/contrib/container-types.db\"" &&
      compact="  Compact true"
    write_config 1 "$1
$compact" "$extra"
    start_collectd || { WORK=$BASE; return 1; }
    DAEMONS+=("$COLLECTD_PID")
    COLLECTD_PID=""
  done
  WORK=$BASE
}

stop_both_modes() {
  local pid
  for pid in "${DAEMONS[@]}"; do COLLECTD_PID=$pid; stop_collectd; done
}

# kill_wait PID SECONDS: TERM, wait up to SECONDS, then KILL.
kill_wait() {
  local pid=$1 i
  kill -TERM "$pid" 2>/dev/null || return 0
  for ((i = 0; i < $2 * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.1
  done
  kill -KILL "$pid" 2>/dev/null
  sleep 0.2
}

# wait_log PATTERN TIMEOUT_S: until collectd's log has a line matching PATTERN.
wait_log() { # wait_log PATTERN TIMEOUT_S
  local i
  for ((i = 0; i < $2 * 5; i++)); do
    grep -qE "$1" "$WORK/collectd.log" && return 0
    sleep 0.2
  done
  return 1
}

# fds_of PID, rss_of PID (KiB); measure: collectd's fds and RSS at a quiet moment, the minimum of
# 5 samples 0.2 s apart (a read in flight holds a cgroup directory open for a moment).
fds_of() { local n=0 f; for f in /proc/"$1"/fd/*; do [ -e "$f" ] && n=$((n + 1)); done; echo "$n"; }
rss_of() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status"; }
measure() {
  local i f r fmin=999999 rmin=999999999
  for i in 1 2 3 4 5; do
    f=$(fds_of "$COLLECTD_PID"); r=$(rss_of "$COLLECTD_PID")
    [ "$f" -lt "$fmin" ] && fmin=$f
    [ "$r" -lt "$rmin" ] && rmin=$r
    sleep 0.2
  done
  echo "$fmin $rmin"
}
