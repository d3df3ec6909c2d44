#!/bin/bash
# Every common writer, checked from collectd's own output. One collectd loads the plugin and
# writes to csv, rrdtool, write_graphite (to a TCP listener the test runs), write_prometheus
# (scraped over HTTP) and network (to a SECOND collectd that receives on loopback and writes CSV
# with nothing but the standard types.db). The container is a Docker-cgroupfs-layout cgroup with a
# busy loop, named through a fake DockerRoot. Every listener is bound to 127.0.0.1. Finally
# contrib/graph-container.sh draws PNGs from the RRD files.
. "$(dirname "$0")/lib.sh"
require_root

PY=/usr/bin/python3
PLUGINDIR=/usr/lib/collectd
RUN_SECONDS=${RUN_SECONDS:-15}

# ---- prerequisites: writer plugins, their libraries, tools ----
lib_package() { # the Debian 12 package that ships a shared library collectd's plugins need
  case $1 in
  librrd.so.*) echo librrd8 ;;
  libmicrohttpd.so.*) echo libmicrohttpd12 ;;
  libprotobuf-c.so.*) echo libprotobuf-c1 ;;
  libgcrypt.so.*) echo libgcrypt20 ;;
  *) echo "the package that provides $1" ;;
  esac
}
for p in csv logfile rrdtool write_graphite write_prometheus network; do
  [ -f "$PLUGINDIR/$p.so" ] || skip "collectd plugin $PLUGINDIR/$p.so missing; apt-get install collectd-core"
  missing=$(ldd "$PLUGINDIR/$p.so" 2>/dev/null | awk '/not found/ {print $1}')
  if [ -n "$missing" ]; then
    pkgs=$(for l in $missing; do lib_package "$l"; done | sort -u | tr '\n' ' ')
    skip "collectd's $p plugin cannot load: ${missing//$'\n'/, } not found; apt-get install ${pkgs% }"
  fi
done
command -v rrdtool >/dev/null || skip "rrdtool (the program) missing; apt-get install rrdtool"
[ -x "$PY" ] || skip "$PY missing (graphite listener, HTTP scrape); apt-get install python3"

# ---- the container: a cgroup in Docker's cgroupfs layout with a busy loop ----
CONTROLLERS=()
if [ -f /sys/fs/cgroup/cgroup.controllers ]; then
  CONTROLLERS=(.) # cgroup v2: /sys/fs/cgroup/docker/ID
else
  for c in cpu cpuacct memory blkio pids; do [ -d "/sys/fs/cgroup/$c" ] && CONTROLLERS+=("$c"); done
  [ ${#CONTROLLERS[@]} -ge 3 ] || skip "needs cgroup v1 controllers or cgroup v2 under /sys/fs/cgroup (found: ${CONTROLLERS[*]:-none})"
  [ -d /sys/fs/cgroup/unified ] && CONTROLLERS+=(unified)
fi

make_workdir
for p in rrdtool write_graphite write_prometheus network; do cp "$PLUGINDIR/$p.so" "$WORK/plugins/"; done
NAME=wr_busy
ID=$(random_id)
make_cgroup "docker/$ID" "${CONTROLLERS[@]}"
if [ "${CONTROLLERS[0]}" = . ]; then
  # v2: the controllers must be enabled for docker/'s children, as dockerd does.
  for c in cpu memory pids io; do
    echo "+$c" >/sys/fs/cgroup/docker/cgroup.subtree_control 2>/dev/null
  done
fi
fake_docker_name "$ID" "$NAME"
# The subshell enters the cgroup before it execs the busy loop, so the 8 MB the shell allocates
# first is charged to the container (memory already in use is not moved along with a task).
(
  move_pid "$BASHPID" "docker/$ID" "${CONTROLLERS[@]}"
  exec sh -c 'x=$(head -c 8000000 /dev/zero | tr "\0" a); while :; do :; done'
) &
BUSY_PID=$!
PIDS_STARTED+=("$BUSY_PID")

# ---- listeners on 127.0.0.1 ----
free_port() { # free_port tcp|udp
  "$PY" -c 'import socket, sys
s = socket.socket(type=socket.SOCK_DGRAM if sys.argv[1] == "udp" else socket.SOCK_STREAM)
s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])' "$1"
}

# Graphite (plaintext protocol over TCP): append every byte received to a file; the port the
# kernel chose is written to a file so there is no race for a free port.
"$PY" - "$WORK/graphite.port" "$WORK/graphite.txt" <<'PYEOF' &
import socket, sys, threading
srv = socket.socket()
srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
srv.bind(("127.0.0.1", 0))
srv.listen(8)
out = open(sys.argv[2], "ab", buffering=0)
lock = threading.Lock()
with open(sys.argv[1] + ".tmp", "w") as f:
    f.write(str(srv.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1])
def serve(conn):
    buf = b""
    while True:
        data = conn.recv(65536)
        if not data:
            break
        buf += data
        lines, _, buf = buf.rpartition(b"\n")
        if lines:
            with lock:
                out.write(lines + b"\n")
while True:
    conn, _ = srv.accept()
    threading.Thread(target=serve, args=(conn,), daemon=True).start()
PYEOF
PIDS_STARTED+=($!)
for _ in $(seq 1 50); do [ -s "$WORK/graphite.port" ] && break; sleep 0.1; done
GRAPHITE_PORT=$(cat "$WORK/graphite.port" 2>/dev/null)
[ -n "$GRAPHITE_PORT" ] || { fail "graphite listener starts"; finish; exit; }
PROM_PORT=$(free_port tcp)
NET_PORT=$(free_port udp)
echo "graphite on 127.0.0.1:$GRAPHITE_PORT, prometheus on 127.0.0.1:$PROM_PORT, network on 127.0.0.1:$NET_PORT"

# ---- configurations: the contrib/writers snippets themselves, pointed at this test ----
# Only addresses, ports and directories are replaced; every listener is bound to 127.0.0.1.
SNIP="$TOP_SRCDIR/contrib/writers"
for f in csv rrdtool write_graphite write_prometheus network-client network-server; do
  [ -f "$SNIP/$f.conf" ] || { echo "FAIL: $SNIP/$f.conf missing"; exit 1; }
done
SNIPPETS_STALE=()
snippet() { # snippet NAME SED_SCRIPT: the snippet with the test's addresses, checked to change
  local out
  out=$(sed -e "$2" "$SNIP/$1.conf")
  if [ "$out" = "$(cat "$SNIP/$1.conf")" ] && [ -n "$2" ]; then
    echo "contrib/writers/$1.conf no longer has the line the test rewrites: $2" >&2
    SNIPPETS_STALE+=("$1")
  fi
  printf '%s\n' "$out"
}

# The receiving ("central") collectd: network-server.conf and csv.conf, nothing else; no container
# plugin, only collectd's standard types.db.
RECV="$WORK/receiver"
mkdir -p "$RECV/plugins" "$RECV/csv"
for p in network csv logfile; do cp "$PLUGINDIR/$p.so" "$RECV/plugins/"; done
# AuthFile: one "user: password" line per sending host (network-client.conf's Username/Password).
user=$(sed -n 's/^ *Username "\(.*\)"/\1/p' "$SNIP/network-client.conf")
pass=$(sed -n 's/^ *Password "\(.*\)"/\1/p' "$SNIP/network-client.conf")
echo "$user: $pass" >"$RECV/passwd"
{
  cat <<CONF
Hostname "central"
FQDNLookup false
Interval 1
PluginDir "$RECV/plugins"
BaseDir "$RECV"
TypesDB "/usr/share/collectd/types.db"
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$RECV/collectd.log"
  Timestamp true
</Plugin>
CONF
  snippet network-server "s|Listen \"0.0.0.0\" \"25826\"|Listen \"127.0.0.1\" \"$NET_PORT\"|; s|AuthFile \".*\"|AuthFile \"$RECV/passwd\"|"
  snippet csv "s|DataDir \".*\"|DataDir \"$RECV/csv\"|"
} >"$RECV/collectd.conf"
RECV_PID=""
stop_receiver() {
  [ -n "$RECV_PID" ] || return 0
  kill -TERM "$RECV_PID" 2>/dev/null
  for _ in $(seq 1 50); do kill -0 "$RECV_PID" 2>/dev/null || break; sleep 0.2; done
  kill -9 "$RECV_PID" 2>/dev/null
  wait "$RECV_PID" 2>/dev/null
  RECV_PID=""
}
trap 'stop_receiver; cleanup' EXIT
"$COLLECTD_BIN" -f -C "$RECV/collectd.conf" -P "$RECV/collectd.pid" >"$RECV/collectd.stdout" 2>&1 &
RECV_PID=$!

# The collectd with the plugin and every writer (rrdtool.conf keeps its CacheTimeout: the RRD
# files are complete once collectd has stopped, which flushes the cache).
{
  cat <<CONF
Hostname "$TESTHOST"
FQDNLookup false
Interval 1
PluginDir "$WORK/plugins"
BaseDir "$WORK"
TypesDB "/usr/share/collectd/types.db"
ReadThreads 4
LoadPlugin logfile
<Plugin logfile>
  LogLevel info
  File "$WORK/collectd.log"
  Timestamp true
</Plugin>
LoadPlugin container
<Plugin container>
  DockerRoot "$WORK/docker"
  Container "/^wr_/"
</Plugin>
CONF
  snippet csv "s|DataDir \".*\"|DataDir \"$WORK/csv\"|"
  snippet rrdtool "s|DataDir \".*\"|DataDir \"$WORK/rrd\"|"
  snippet write_graphite "s|Host \"graphite.example.com\"|Host \"127.0.0.1\"|; s|Port \"2003\"|Port \"$GRAPHITE_PORT\"|"
  snippet write_prometheus "s|# Host \"0.0.0.0\"|Host \"127.0.0.1\"|; s|Port \"9103\"|Port \"$PROM_PORT\"|"
  snippet network-client "s|Server \"collectd.example.com\" \"25826\"|Server \"127.0.0.1\" \"$NET_PORT\"|"
} >"$WORK/collectd.conf"
check "the test could point every contrib/writers snippet at its listeners (${SNIPPETS_STALE[*]:-all})" \
  test ${#SNIPPETS_STALE[@]} -eq 0
check "every listener in the configurations is on 127.0.0.1" \
  eval "! grep -hE '^ *(<Listen|<Server|Host) ' '$WORK/collectd.conf' '$RECV/collectd.conf' | grep -v '127.0.0.1'"
T_COLLECT_START=$(date +%s)
start_collectd || { fail "collectd starts"; finish; exit; }
check "receiving collectd is running" kill -0 "$RECV_PID"

check "csv: ps_cputime appears" wait_for_csv "$NAME" ps_cputime 3 15
sleep "$RUN_SECONDS"

# ---- csv ----
echo "--- csv (load, ps_cputime, memory-usage), last rows:"
for t in load ps_cputime memory-usage; do csv_rows "$NAME" "$t" | tail -n 2 | sed "s/^/  $t: /"; done
check "csv: load has >= 10 rows" test "$(csv_rows "$NAME" load | wc -l)" -ge 10
check "csv: load shortterm of a busy loop is rising and in (0, 2]" \
  awk -F, 'END { exit !($2 > 0 && $2 <= 2) }' <<<"$(csv_rows "$NAME" load)"
rate=$(csv_rows "$NAME" ps_cputime | awk -F, 'NR==1{t0=$1; c0=$2+$3} {t=$1; c=$2+$3} END{ if (t>t0) printf "%.0f", (c-c0)/(t-t0); else print -1 }')
# The busy loop gets up to one core; on a loaded CI machine (or under ASan) much less. What
# matters here is that every writer shows the same rate, so the others are compared with this.
check "csv: ps_cputime grows like a busy loop's ($rate us/s: > 0.1 and <= 1.1 core)" \
  awk -v r="$rate" 'BEGIN{exit !(r >= 100000 && r <= 1100000)}'
same_rate() { awk -v a="$1" -v b="$rate" 'BEGIN{exit !(a > 0 && a >= 0.7 * b && a <= 1.3 * b)}'; }
if [ -n "$(csv_file "$NAME" memory-usage)" ]; then
  mem=$(csv_rows "$NAME" memory-usage | tail -n 1 | cut -d, -f2)
  total=$(awk '/^MemTotal:/ {print $2 * 1024}' /proc/meminfo)
  check "csv: memory-usage is sane (8 MB allocated: 4 MB < $mem < MemTotal $total)" \
    awk -v m="$mem" -v t="$total" 'BEGIN{exit !(m > 4000000 && m < t)}'
else
  fail "csv: memory-usage present"
fi

# ---- write_graphite ----
# collectd ends graphite lines with \r\n; with the default StoreRates true, DERIVE values
# (ps_cputime) arrive as rates per second, GAUGEs as they are.
G="$WORK/graphite.lines"
tr -d '\r' <"$WORK/graphite.txt" >"$G"
echo "--- graphite lines:"
grep -E "^$TESTHOST\.container-$NAME\.(load|ps_cputime|memory-usage)\." "$G" | tail -n 6 | sed 's/^/  /'
re_num='-?[0-9]+(\.[0-9]+)?(e[-+]?[0-9]+)?'
check "graphite: $TESTHOST.container-$NAME.load.shortterm VALUE TS" \
  grep -qE "^$TESTHOST\.container-$NAME\.load\.shortterm $re_num [0-9]{10}$" "$G"
check "graphite: ps_cputime.user and ps_cputime.syst" \
  eval "grep -qE '^$TESTHOST\.container-$NAME\.ps_cputime\.user $re_num [0-9]{10}\$' '$G' &&
        grep -qE '^$TESTHOST\.container-$NAME\.ps_cputime\.syst $re_num [0-9]{10}\$' '$G'"
check "graphite: memory-usage" grep -qE "^$TESTHOST\.container-$NAME\.memory-usage $re_num [0-9]{10}$" "$G"
g_rate=$(grep -E "^$TESTHOST\.container-$NAME\.ps_cputime\.(user|syst) [0-9]" "$G" |
  awk '{ s[$3] += $2 } END { for (t in s) { n++; sum += s[t] } if (n) printf "%.0f", sum / n; else print -1 }')
check "graphite: ps_cputime user+syst is a rate, the same as csv's ($g_rate vs $rate us/s)" \
  same_rate "$g_rate"

# ---- write_prometheus ----
scrape() {
  "$PY" -c 'import sys, urllib.request; sys.stdout.write(urllib.request.urlopen(sys.argv[1], timeout=5).read().decode())' \
    "http://127.0.0.1:$PROM_PORT/metrics" 2>&1
}
scrape >"$WORK/prometheus.txt"
P="$WORK/prometheus.txt"
echo "--- prometheus lines:"
grep "container=\"$NAME\"" "$P" | grep -E '^collectd_container_(load|ps_cputime|memory)' | sed 's/^/  /'
check "prometheus: collectd_container_load_shortterm{container=\"$NAME\",instance=\"$TESTHOST\"}" \
  grep -qE "^collectd_container_load_shortterm\{container=\"$NAME\",instance=\"$TESTHOST\"\} $re_num" "$P"
check "prometheus: collectd_container_ps_cputime_user_total / _syst_total counters" \
  eval "grep -qE '^collectd_container_ps_cputime_user_total\{container=\"$NAME\",instance=\"$TESTHOST\"\} [0-9]' '$P' &&
        grep -qE '^collectd_container_ps_cputime_syst_total\{container=\"$NAME\",instance=\"$TESTHOST\"\} [0-9]' '$P'"
check "prometheus: # TYPE collectd_container_ps_cputime_user_total counter" \
  grep -qx "# TYPE collectd_container_ps_cputime_user_total counter" "$P"
check "prometheus: memory with type=\"usage\" label" \
  grep -qE "^collectd_container_memory\{container=\"$NAME\",type=\"usage\",instance=\"$TESTHOST\"\} [0-9]" "$P"

# ---- network: the receiving collectd's CSV ----
RC="$RECV/csv/$TESTHOST/container-$NAME"
echo "--- receiving collectd's csv:"
for t in load ps_cputime memory-usage; do
  f=$(ls -1 "$RC/$t"-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] && grep -v '^epoch' "$f" | tail -n 2 | sed "s/^/  $t: /"
done
recv_rows() { local f; f=$(ls -1 "$RC/$1"-* 2>/dev/null | tail -n 1); [ -n "$f" ] && grep -vc '^epoch' "$f"; }
check "network: receiver wrote load for container-$NAME ($(recv_rows load) rows)" \
  test "$(recv_rows load || echo 0)" -ge 5
check "network: receiver wrote ps_cputime for container-$NAME ($(recv_rows ps_cputime) rows)" \
  test "$(recv_rows ps_cputime || echo 0)" -ge 5
# Same values on both sides: the last ps_cputime row the receiver has is also in the sender's CSV.
last_recv=$(f=$(ls -1 "$RC"/ps_cputime-* 2>/dev/null | tail -n 1); [ -n "$f" ] && tail -n 1 "$f")
check "network: received ps_cputime row '$last_recv' equals the sender's" \
  grep -qxF "$last_recv" "$(csv_file "$NAME" ps_cputime)"
check "network: receiver needed no extra TypesDB (no type errors in its log)" \
  eval "! grep -qiE 'unknown type|not found in types|error' '$RECV/collectd.log'"

# ---- stop both (the rrdtool plugin writes its cache out at shutdown), check logs ----
check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
stop_receiver
check "no ERROR lines in the sending collectd's log" test -z "$(errors_in_log)"
errors_in_log | head -5

# ---- rrdtool ----
RRD="$WORK/rrd/$TESTHOST/container-$NAME"
check "rrdtool: load.rrd, ps_cputime.rrd, memory-usage.rrd written" \
  test -s "$RRD/load.rrd" -a -s "$RRD/ps_cputime.rrd" -a -s "$RRD/memory-usage.rrd"
# fetch prints "TIME: v1 v2 ..." rows; count the rows with at least one number.
numeric_rows() { grep -E '^[0-9]+:' | grep -vcE ':( +-?nan)+ *$'; }
# From when collectd started, however long the steps since then took on a busy machine.
fetch() { rrdtool fetch "$1" AVERAGE -r 1 -s "$((T_COLLECT_START - 2))" -e now 2>&1; }
echo "--- rrdtool fetch load.rrd / ps_cputime.rrd (numeric rows, last 2):"
fetch "$RRD/load.rrd" | grep -E '^[0-9]+:' | grep -vE ':( +-?nan)+ *$' | tail -n 2 | sed 's/^/  load /'
fetch "$RRD/ps_cputime.rrd" | grep -E '^[0-9]+:' | grep -vE ':( +-?nan)+ *$' | tail -n 2 | sed 's/^/  ps_cputime /'
n_load=$(fetch "$RRD/load.rrd" | numeric_rows)
n_cpu=$(fetch "$RRD/ps_cputime.rrd" | numeric_rows)
check "rrdtool fetch: load has numbers ($n_load rows)" test "$n_load" -ge 5
check "rrdtool fetch: ps_cputime has numbers ($n_cpu rows)" test "$n_cpu" -ge 5
# The DERIVE data source stores a rate: user+syst in us of CPU per second.
rrd_rate=$(fetch "$RRD/ps_cputime.rrd" | grep -E '^[0-9]+:' | grep -vE ':( +-?nan)+ *$' |
  awk '{ s += $2 + $3; n++ } END { if (n) printf "%.0f", s / n; else print -1 }')
check "rrdtool fetch: ps_cputime rate is the same as csv's ($rrd_rate vs $rate us/s)" \
  same_rate "$rrd_rate"

# ---- contrib/graph-container.sh on these RRDs ----
START=-$((RUN_SECONDS + 10)) bash "$TOP_SRCDIR/contrib/graph-container.sh" "$NAME" "$WORK/rrd/$TESTHOST" "$WORK/png" \
  >"$WORK/graph.out" 2>&1
cat "$WORK/graph.out" | sed 's/^/  /'
for g in load cpu memory; do
  png="$WORK/png/container-$NAME-$g.png"
  check "graph-container.sh: $g PNG drawn" \
    eval "test -s '$png' && [ \"\$(head -c 8 '$png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ]"
done

[ -n "${KEEP_WORK:-}" ] && echo "work dir kept: $WORK"
finish
