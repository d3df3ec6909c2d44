#!/bin/bash
# Hostile containers against a real collectd at Interval 1 (root). Two ordinary containers
# (hs_ok_0, hs_ok_1) run throughout; one hostile container at a time then lives for
# HOSTILE_SECONDS (default 12):
#   threads     one process with 20,000 threads (HOSTILE_THREADS)
#   cgroups     5,000 child cgroups below the container (50 chains 100 deep) in every hierarchy
#   interfaces  a network namespace with 500 interfaces (250 veth pairs: no dummy driver here)
#   names       six containers named with spaces, dots, slashes, quotes, a newline and 4 KiB of
#               UTF-8, one of them in a namespace whose interfaces are named with quotes, dots,
#               a backslash, UTF-8 and bytes that are not UTF-8
# Each phase checks that the ordinary containers' values flowed with no gap over two intervals
# while the hostile one existed, that collectd's fds and RSS stayed bounded during it and came
# back afterwards, and no ERROR and no failed read; it prints collectd's CPU per read (the whole
# daemon: plugin and writers) against the quiet baseline. The names phase checks that every
# identifier the CSV writer made is one path component of valid UTF-8 without control bytes,
# that write_prometheus's page (scraped over HTTP) is valid UTF-8 exposition text naming every
# container, and that every write_graphite line (to a TCP listener on 127.0.0.1) is
# "PATH VALUE TIME" with a path of valid UTF-8 without spaces or control bytes.
# Checks the current plugin is known to fail (no per-container budget yet) are run as
# known_issue: a failure prints a "SKIP-PART: KNOWN-ISSUE ..." line, which tests/run-all counts
# and names as a skip, and fails the test only with HOSTILE_STRICT=1.
# Not in make check (it would run twice, ~2.5 min each): tests/run-all runs it once as a stage.
. "$(dirname "$0")/lib.sh"
require_root
HERE=$(cd "$(dirname "$0")" && pwd)
SECS=${HOSTILE_SECONDS:-10}
NTHREADS=${HOSTILE_THREADS:-20000}
PY=/usr/bin/python3
[ -x "$PY" ] || skip "python3 is needed (JSON names, UTF-8 checks); apt-get install python3"
command -v ip >/dev/null || skip "needs iproute2 (ip)"
HIER=()
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  HIER=(.)
else
  for c in cpu cpuacct memory blkio pids; do [ -d "/sys/fs/cgroup/$c" ] && HIER+=("$c"); done
  [ -d /sys/fs/cgroup/unified ] && HIER+=(unified)
fi
[ ${#HIER[@]} -ge 1 ] || skip "no cgroup hierarchy under /sys/fs/cgroup"

make_workdir
NS=rel_hs_$$
NS2=rel_hsn_$$
PID_MAX_WAS=""
hostile_cleanup() {
  local p
  for p in "${PIDS_STARTED[@]}"; do kill -9 "$p" 2>/dev/null; done
  for p in "${PIDS_STARTED[@]}"; do wait "$p" 2>/dev/null; done
  PIDS_STARTED=()
  for c in "${HIER[@]}"; do
    [ -d "/sys/fs/cgroup/$c/docker" ] || continue
    find "/sys/fs/cgroup/$c/docker" -mindepth 1 -depth -type d -path '*/hs_tree*' -exec rmdir {} + 2>/dev/null
  done
  ip netns del "$NS" 2>/dev/null
  ip netns del "$NS2" 2>/dev/null
  [ -n "$PID_MAX_WAS" ] && echo "$PID_MAX_WAS" >/proc/sys/kernel/pid_max
  cleanup
}
trap hostile_cleanup EXIT
${CC:-cc} -O2 -Wall -pthread -o "$WORK/hostile_threads" "$HERE/hostile_threads.c" ||
  { fail "build hostile_threads"; finish; exit; }

known_issue() { # like check; a failure is a KNOWN-ISSUE line, counted only with HOSTILE_STRICT=1
  local what=$1
  shift
  if "$@"; then pass "$what"
  elif [ -n "${HOSTILE_STRICT:-}" ]; then fail "$what"
  else skip_part "KNOWN-ISSUE (until the read path has per-container budgets): $what"; KNOWN=$((KNOWN + 1)); fi
}
KNOWN=0

# new_container NAME [NETNS] CMD...: a Docker-cgroupfs-layout container running CMD; prints its
# id. NAME may hold any character (the config is written as JSON by python).
new_container() {
  local name=$1 id
  shift
  id=$(random_id)
  make_cgroup "docker/$id" "${HIER[@]}"
  mkdir -p "$WORK/docker/containers/$id"
  "$PY" -c 'import json, sys
print(json.dumps({"ID": sys.argv[1], "Name": "/" + sys.argv[2], "State": {"Running": True}}))' \
    "$id" "$name" >"$WORK/docker/containers/$id/config.v2.json"
  (
    for c in "${HIER[@]}"; do echo "$BASHPID" >"/sys/fs/cgroup/$c/docker/$id/cgroup.procs"; done
    exec "$@"
  ) </dev/null >"$WORK/out.$id" 2>&1 &
  PIDS_STARTED+=($!)
  CPIDS[$id]=$!
  LAST_ID=$id
}
declare -A CPIDS

# remove_container ID: kills what runs in it, removes its cgroups (children first) and name.
remove_container() {
  local id=$1 c d p
  for c in "${HIER[@]}"; do
    d=/sys/fs/cgroup/$c/docker/$id
    [ -d "$d" ] || continue
    for p in $(find "$d" -name cgroup.procs -exec cat {} + 2>/dev/null); do kill -9 "$p" 2>/dev/null; done
  done
  for p in ${CPIDS[$id]}; do wait "$p" 2>/dev/null; done
  for c in "${HIER[@]}"; do
    d=/sys/fs/cgroup/$c/docker/$id
    [ -d "$d" ] || continue
    for _ in 1 2 3 4 5 6 7 8 9 10; do
      find "$d" -depth -type d -exec rmdir {} + 2>/dev/null
      [ -d "$d" ] || break
      sleep 0.3
    done
  done
  rm -rf "$WORK/docker/containers/$id"
}

cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat"; }
TCK=$(getconf CLK_TCK)
# max_gap NAME FROM TO: the longest gap (s) between NAME's ps_cputime rows in [FROM, TO], or
# "none" with fewer than 2 rows.
max_gap() {
  cat "$WORK/csv/$TESTHOST/container-$1/"ps_cputime-* 2>/dev/null | grep -v '^epoch' |
    awk -F, -v a="$2" -v b="$3" '$1 >= a && $1 <= b { if (p) { d = $1 - p; if (d > m) m = d } p = $1; n++ }
      END { if (n < 2) print "none"; else printf "%.2f\n", m }'
}
gap_ok() { awk -v g="$1" 'BEGIN { exit !(g != "none" && g + 0 <= 2.25) }'; }
# cpu_ms T0 T1 C0 C1: collectd's CPU ms per second (one read a second).
cpu_ms() { awk -v c=$(($4 - $3)) -v t="$TCK" -v s=$(($2 - $1)) 'BEGIN {printf "%.1f", s ? 1000 * c / t / s : 0}'; }
# ERROR lines, less write_prometheus's complaint about libmicrohttpd's option order (every start).
errors() { grep -F '[error]' "$WORK/collectd.log" | grep -vF 'MHD_OPTION_EXTERNAL_LOGGER' || true; }

# write_prometheus and write_graphite, where their libraries are installed (as CI does).
WRITERS=""
for p in write_prometheus write_graphite; do
  if [ -f "/usr/lib/collectd/$p.so" ] && ! ldd "/usr/lib/collectd/$p.so" | grep -q 'not found'; then
    cp "/usr/lib/collectd/$p.so" "$WORK/plugins/" && WRITERS="$WRITERS $p"
  else
    skip_part "the names phase without $p (the plugin or its libraries are missing)"
  fi
done
EXTRA=""
if [[ $WRITERS == *write_prometheus* ]]; then
  PROM_PORT=$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
  EXTRA="LoadPlugin write_prometheus
<Plugin write_prometheus>
  Host \"127.0.0.1\"
  Port \"$PROM_PORT\"
</Plugin>"
fi
if [[ $WRITERS == *write_graphite* ]]; then
  # A graphite listener: every line received goes to a file; its port comes back in a file.
  "$PY" - "$WORK/graphite.port" "$WORK/graphite.txt" <<'PYEOF' &
import os, socket, sys, threading
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(8)
out = open(sys.argv[2], "ab", buffering=0)
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def serve(conn):
    while True:
        data = conn.recv(65536)
        if not data:
            break
        out.write(data)
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PYEOF
  PIDS_STARTED+=($!)
  for _ in $(seq 1 50); do [ -s "$WORK/graphite.port" ] && break; sleep 0.1; done
  EXTRA="$EXTRA
LoadPlugin write_graphite
<Plugin write_graphite>
  <Node \"hostile\">
    Host \"127.0.0.1\"
    Port \"$(cat "$WORK/graphite.port")\"
    Protocol \"tcp\"
  </Node>
</Plugin>"
fi
READ_THREADS=5 write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^hs_/\"" "$EXTRA"
start_collectd || { fail "collectd starts"; finish; exit; }
new_container hs_ok_0 sleep 100000
new_container hs_ok_1 sleep 100000
sleep 5
T0=$(date +%s); C0=$(cpu_of "$COLLECTD_PID")
sleep 6
T1=$(date +%s); C1=$(cpu_of "$COLLECTD_PID")
read -r FD_BASE RSS_BASE < <(measure)
BASE_MS=$(cpu_ms "$T0" "$T1" "$C0" "$C1")
echo "baseline (2 containers): collectd ${BASE_MS} ms CPU per read, $FD_BASE fds, $RSS_BASE KiB RSS"

# phase NAME N SETUP TEARDOWN: SETUP starts N hostile containers, TEARDOWN removes them. A
# container keeps about 17 fds (README): up to 24 each is "bounded".
phase() {
  local name=$1 ncont=$2 setup=$3 teardown=$4 t0 t1 c0 c1 fd_mid rss_mid fd_end rss_end g n ms
  echo "=== $name"
  t0=$(date +%s)
  "$setup"
  sleep 2 # the first reads of the new container are over
  c0=$(cpu_of "$COLLECTD_PID"); local tc0; tc0=$(date +%s)
  sleep "$SECS"
  c1=$(cpu_of "$COLLECTD_PID"); t1=$(date +%s)
  read -r fd_mid rss_mid < <(measure)
  ms=$(cpu_ms "$tc0" "$t1" "$c0" "$c1")
  "$teardown"
  sleep 3
  local t2; t2=$(date +%s)
  read -r fd_end rss_end < <(measure)
  echo "$name: collectd ${ms} ms CPU per read (baseline $BASE_MS); fds $FD_BASE -> $fd_mid while it lived -> $fd_end after; RSS $RSS_BASE -> $rss_mid -> $rss_end KiB"
  echo "cost: $name cpu_ms_per_read=$ms baseline_ms=$BASE_MS fds=$fd_mid rss_kib=$rss_mid"
  check "$name: collectd alive" kill -0 "$COLLECTD_PID"
  for n in 0 1; do
    g=$(max_gap "hs_ok_$n" "$t0" "$t2")
    echo "$name: hs_ok_$n max gap $g s while the hostile container lived"
    known_issue "$name: hs_ok_$n values without a gap over 2 intervals ($g s)" gap_ok "$g"
  done
  # Per container: its cgroup files (about 17-24) and at most 256 threads' stat fds
  # (PROCSTATE_KEEP_MAX).
  check "$name: fds bounded while it lived ($FD_BASE -> $fd_mid, at most +$((280 * ncont)))" \
    test "$fd_mid" -le $((FD_BASE + 280 * ncont))
  check "$name: fds back after it is gone ($FD_BASE -> $fd_end)" test "$fd_end" -le $((FD_BASE + 2))
  known_issue "$name: RSS bounded while it lived ($RSS_BASE -> $rss_mid KiB, at most +32 MiB)" \
    test "$rss_mid" -le $((RSS_BASE + 32768))
  check "$name: RSS back within 8 MiB after it is gone ($RSS_BASE -> $rss_end KiB)" \
    test "$rss_end" -le $((RSS_BASE + 8192))
  known_issue "$name: no ERROR line" test -z "$(errors)"
  errors | head -3 | sed 's/^/    /'
  check "$name: no failed read callback" test -z "$(grep -F 'read-function of plugin `container' "$WORK/collectd.log")"
  grep -F '[warning]' "$WORK/collectd.log" | grep -vF -f "$WORK/warnings.seen" 2>/dev/null | head -3 | sed "s/^/    $name warning: /"
  grep -F '[warning]' "$WORK/collectd.log" >"$WORK/warnings.seen"
}
: >"$WORK/warnings.seen"

# ---- threads ----
threads_up() {
  local need=$((NTHREADS + 8000)) max
  max=$(cat /proc/sys/kernel/pid_max)
  if [ "$max" -lt "$need" ]; then PID_MAX_WAS=$max; echo "$need" >/proc/sys/kernel/pid_max; fi
  new_container hs_threads "$WORK/hostile_threads" "$NTHREADS"
  HS_ID=$LAST_ID
  local i
  for i in $(seq 1 300); do grep -q ready "$WORK/out.$HS_ID" 2>/dev/null && break; sleep 0.2; done
  echo "hs_threads: $(cat "$WORK/out.$HS_ID")"
  check "hs_threads: $NTHREADS threads started" grep -qx "ready $NTHREADS" "$WORK/out.$HS_ID"
}
threads_down() {
  remove_container "$HS_ID"
  [ -n "$PID_MAX_WAS" ] && echo "$PID_MAX_WAS" >/proc/sys/kernel/pid_max && PID_MAX_WAS=""
}
phase "threads ($NTHREADS in one container)" 1 threads_up threads_down

# ---- cgroups ----
cgroups_up() {
  new_container hs_cgroups sleep 100000
  HS_ID=$LAST_ID
  local c k chain
  chain=$(printf 'c/%.0s' $(seq 1 98))c # hs_treeK and 99 below it: 100 a chain
  for c in "${HIER[@]}"; do
    for k in $(seq 1 50); do mkdir -p "/sys/fs/cgroup/$c/docker/$HS_ID/hs_tree$k/$chain"; done
  done
  local made
  made=$(find "/sys/fs/cgroup/${HIER[0]}/docker/$HS_ID" -mindepth 1 -type d | wc -l)
  check "hs_cgroups: 5000 child cgroups made ($made in ${HIER[0]})" test "$made" -eq 5000
  # A sleeping process at the bottom of the first chain.
  (
    for c in "${HIER[@]}"; do echo "$BASHPID" >"/sys/fs/cgroup/$c/docker/$HS_ID/hs_tree1/$chain/cgroup.procs"; done
    exec sleep 100000
  ) </dev/null >/dev/null 2>&1 &
  PIDS_STARTED+=($!)
  CPIDS[$HS_ID]+=" $!"
}
cgroups_down() {
  check "hs_cgroups: a WARNING says the task sample's limit was reached, once" \
    test "$(grep -c 'container hs_cgroups: task states (limit)' "$WORK/collectd.log")" -eq 1
  remove_container "$HS_ID"
}
phase "cgroups (5000 nested children)" 1 cgroups_up cgroups_down

# ---- interfaces ----
interfaces_up() {
  ip netns add "$NS" || { fail "ip netns add $NS"; return; }
  local i
  for i in $(seq 1 250); do echo "link add hsa$i type veth peer name hsb$i"; done >"$WORK/ip.batch"
  ip -n "$NS" -batch "$WORK/ip.batch" || fail "veth pairs in $NS"
  local n
  n=$(ip -n "$NS" -o link | wc -l)
  check "hs_ifaces: 500 interfaces in the namespace (with lo: $n)" test "$n" -ge 501
  new_container hs_ifaces ip netns exec "$NS" sleep 100000
  HS_ID=$LAST_ID
}
interfaces_down() {
  local n
  n=$(ls "$WORK/csv/$TESTHOST/container-hs_ifaces/" 2>/dev/null | grep -c '^if_octets-')
  echo "hs_ifaces: $n interfaces dispatched of 501"
  check "hs_ifaces: at most 256 interfaces dispatched (NETNS_MAX_IFS; $n)" test "$n" -le 256 -a "$n" -ge 1
  check "hs_ifaces: a WARNING says the interface limit was reached, once" \
    test "$(grep -c 'container hs_ifaces: interfaces (limit)' "$WORK/collectd.log")" -eq 1
  remove_container "$HS_ID"
  ip netns del "$NS"
}
phase "interfaces (500 in one namespace)" 1 interfaces_up interfaces_down

# ---- names ----
LONG=$("$PY" -c 'print("hs_long_" + "ü€𝄞ж" * 400, end="")')
NAMES=("hs_with space" "hs_dots..a.b." "hs_slash/x/../y" "hs_quote\"'\`\\" $'hs_new\nline\ttab' "$LONG")
IFNAMES=("hs\"q'.d" "hs.a.b" $'hs\\b' $'hs\xc3\xbc\xe2\x82\xac' $'hs\xff\xfe')
names_up() {
  HS_IDS=()
  local n i
  for n in "${NAMES[@]}"; do
    new_container "$n" sleep 100000
    HS_IDS+=("$LAST_ID")
  done
  ip netns add "$NS2" || { fail "ip netns add $NS2"; return; }
  i=0
  for n in "${IFNAMES[@]}"; do
    i=$((i + 1))
    ip -n "$NS2" link add "$n" type veth peer name "hsp$i" || echo "cannot name an interface $(printf %q "$n")"
    ip -n "$NS2" link set "$n" up 2>/dev/null
  done
  new_container "hs_netns odd/ifnames" ip netns exec "$NS2" sleep 100000
  HS_IDS+=("$LAST_ID")
}
names_down() {
  # What write_prometheus serves while the containers exist.
  if [ -n "${PROM_PORT:-}" ]; then
    "$PY" -c 'import sys, urllib.request; sys.stdout.buffer.write(urllib.request.urlopen(sys.argv[1], timeout=10).read())' \
      "http://127.0.0.1:$PROM_PORT/metrics" >"$WORK/prometheus.txt" 2>"$WORK/prometheus.err"
  fi
  local id
  for id in "${HS_IDS[@]}"; do remove_container "$id"; done
  ip netns del "$NS2"
}
phase "names (spaces, dots, slashes, quotes, newline, 4 KiB UTF-8; odd interface names)" 7 names_up names_down
appeared=$(grep -c 'container appeared: hs_' "$WORK/collectd.log")
check "all 7 oddly named containers appeared (with the 2 ordinary and 3 hostile: $appeared)" test "$appeared" -ge 12
# Every file the CSV writer made sits at HOST/container-NAME/FILE: a '/' in a name would nest.
deep=$(find "$WORK/csv/$TESTHOST" -mindepth 3 | head -3)
check "every CSV identifier is one path component per part" test -z "$deep"
[ -n "$deep" ] && echo "$deep" | sed 's/^/    nested: /'
bad=$("$PY" - "$WORK/csv/$TESTHOST" <<'PY'
import os, sys
root = os.fsencode(sys.argv[1])
for d in os.listdir(root):
    for part in [d] + os.listdir(os.path.join(root, d)):
        why = None
        try:
            s = part.decode("utf-8")
        except UnicodeDecodeError:
            why = "not UTF-8"
        else:
            if any(ord(ch) < 32 or ord(ch) == 127 for ch in s) or '"' in s or " " in s:
                why = "a control byte, quote or space"
        if why is None and len(part) > 127 + len(b"container-"):
            why = "longer than collectd's 127 bytes"
        if why:
            print(why + ": " + repr(part))
PY
)
known_issue "every CSV identifier is valid UTF-8 without control bytes, quotes or spaces, at most 127 bytes" test -z "$bad"
[ -n "$bad" ] && echo "$bad" | head -5 | sed 's/^/    /'
ls "$WORK/csv/$TESTHOST" | grep -a hs_ | sed 's/^/    csv dir: /' | cut -c1-120
if [ -n "${PROM_PORT:-}" ]; then
  bad=$("$PY" - "$WORK/prometheus.txt" <<'PY'
import re, sys
raw = open(sys.argv[1], "rb").read()
try:
    text = raw.decode("utf-8")
except UnicodeDecodeError as e:
    print("not UTF-8: %s" % e); sys.exit()
label = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:\\[\\"n]|[^"\\\n])*"'
sample = re.compile(r'^[a-zA-Z_:][a-zA-Z0-9_:]*(\{%s(,%s)*\})? \S+( -?\d+)?$' % (label, label))
names = set()
for line in text.split("\n"):
    if not line or line.startswith("#"):
        continue
    if not sample.match(line):
        print("not exposition text: %r" % line[:160]); continue
    m = re.search(r'container="((?:\\.|[^"\\])*)"', line)
    if m:
        names.add(m.group(1))
hs = [n for n in names if n.startswith("hs_")]
if len(hs) < 9:
    print("only %d hs_ containers on the page: %r" % (len(hs), sorted(hs)))
PY
)
  check "write_prometheus: valid UTF-8 exposition text naming all 9 containers" test -z "$bad"
  [ -n "$bad" ] && echo "$bad" | head -5 | sed 's/^/    /'
fi
if [[ $WRITERS == *write_graphite* ]]; then
  bad=$("$PY" - "$WORK/graphite.txt" <<'PY'
import sys
raw = open(sys.argv[1], "rb").read()
n = 0
for line in raw.split(b"\n"):
    line = line.rstrip(b"\r")
    if not line:
        continue
    n += 1
    parts = line.split(b" ")
    try:
        path = parts[0].decode("utf-8")
    except UnicodeDecodeError:
        print("path not UTF-8: %r" % line[:160]); continue
    if len(parts) != 3 or any(ord(c) < 32 or c == '"' for c in path):
        print("not PATH VALUE TIME: %r" % line[:160])
if n == 0:
    print("no graphite line received")
PY
)
  check "write_graphite: every line is PATH VALUE TIME, the path valid UTF-8 ($(grep -ac . "$WORK/graphite.txt") lines)" test -z "$bad"
  [ -n "$bad" ] && echo "$bad" | head -5 | sed 's/^/    /'
  grep -a 'hs_quote\|hs_long' "$WORK/graphite.txt" | head -2 | cut -c1-160 | sed 's/^/    graphite: /'
fi
ls "$WORK/csv/$TESTHOST/"*odd_ifnames* 2>/dev/null | grep -a if_octets | sed 's/^/    interface file: /'

stop_collectd
echo "known issues (SKIP-PART lines; failures with HOSTILE_STRICT=1): $KNOWN"
finish
