#!/bin/bash
# A real carbon-cache (Debian's graphite-carbon, 127.0.0.1, whisper files with 1-second points
# under the test's work directory) receives collectd's write_graphite, configured from
# contrib/writers/write_graphite.conf. The container is a Docker-cgroupfs-layout cgroup with a busy
# loop. The test reads the whisper files with python3-whisper: the busy container's CPU rate (the
# same as the process's own CPU time from /proc over the same seconds), its memory and its load.
# With
# graphite-web installed it also renders the container's load and CPU through the render API
# (format=json checked; a PNG kept when RENDER_PNG names a file).
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/stores_lib.sh"
require_root
[ -x "$CARBON_BIN" ] || skip "carbon-cache is not installed ($CARBON_BIN); apt-get install graphite-carbon"
"$PY" -c 'import whisper' 2>/dev/null || skip "python3-whisper missing; apt-get install python3-whisper"
WINDOW_SECONDS=${WINDOW_SECONDS:-20}
NAME=graph_busy

make_workdir
trap 'stores_cleanup; cleanup' EXIT
require_writer write_graphite
carbon_start || { fail "carbon-cache starts"; finish; exit; }
echo "carbon-cache $(dpkg-query -W -f '${Version}' graphite-carbon 2>/dev/null) on 127.0.0.1:$CARBON_PORT"

busy_container "$NAME"
write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^graph_/\"" \
  "$(sed -e "s|Host \"graphite.example.com\"|Host \"127.0.0.1\"|; s|Port \"2003\"|Port \"$CARBON_PORT\"|" \
    "$TOP_SRCDIR/contrib/writers/write_graphite.conf")"
check "write_graphite sends to 127.0.0.1" grep -q "^ *Host \"127.0.0.1\"" "$WORK/collectd.conf"
start_collectd || { fail "collectd starts"; finish; exit; }
sleep 3
T0=$(date +%s)
CPU0=$(proc_cpu_us "$BUSY_PID")
sleep "$WINDOW_SECONDS"
T1=$(date +%s)
CPU1=$(proc_cpu_us "$BUSY_PID")
sleep 2 # the last points reach the files (collectd's interval, carbon's flush)
proc_rate=$(awk -v a="$CPU0" -v b="$CPU1" -v t0="$T0" -v t1="$T1" 'BEGIN{printf "%.0f", (b - a) / (t1 - t0)}')

P=$TESTHOST.container-$NAME
echo "--- whisper files for container-$NAME:"
(cd "$WORK/graphite/whisper" && find "$TESTHOST/container-$NAME" -name '*.wsp' | sort) | tee "$WORK/files.txt" |
  head -n 12 | sed 's/^/  /'
check "carbon wrote whisper files for $P ($(wc -l <"$WORK/files.txt"))" test "$(wc -l <"$WORK/files.txt")" -ge 10

# The mean of the per-second points inside the window (write_graphite sends rates: StoreRates).
window_mean() { whisper_points "$1" 120 | awk -v a="$T0" -v b="$T1" '$1 > a && $1 <= b { s += $2; n++ }
  END { if (n) printf "%.0f %d", s / n, n; else print "0 0" }'; }
read -r user n_user <<<"$(window_mean "$P.ps_cputime.user")"
read -r syst _ <<<"$(window_mean "$P.ps_cputime.syst")"
echo "whisper $P.ps_cputime.user: mean $user us/s over $n_user points; syst $syst; /proc: $proc_rate us/s"
check "graphite: ps_cputime.user has a point every second of the window ($n_user of $WINDOW_SECONDS)" \
  test "$n_user" -ge $((WINDOW_SECONDS * 8 / 10))
check_about_a_core "graphite: ps_cputime.user (mean over the window)" "$user" "$proc_rate"
check "graphite: user+syst $user+$syst within 25 % of /proc's $proc_rate us/s" \
  awk -v u="$user" -v s="$syst" -v p="$proc_rate" 'BEGIN{r = u + s; exit !(p > 0 && r >= 0.75 * p && r <= 1.25 * p)}'
load=$(whisper_points "$P.load.shortterm" 30 | tail -n 1 | awk '{print $2}')
check "graphite: load.shortterm of one busy loop is rising, in (0.1, 2]: $load" \
  awk -v l="${load:-0}" 'BEGIN{exit !(l > 0.1 && l <= 2)}'
mem=$(whisper_points "$P.memory-usage" 30 | tail -n 1 | awk '{print $2}')
check "graphite: memory-usage holds the 8 MB allocated (4 MB < $mem < 1 GB)" \
  awk -v m="${mem:-0}" 'BEGIN{exit !(m > 4000000 && m < 1e9)}'

# ---- graphite-web's render API (no web server: Django's test client in one process) ----
if "$PY" -c 'import graphite.settings' 2>/dev/null; then
  RENDER=("$PY" "$TOP_SRCDIR/tests/integration/graphite_render.py" "$WORK/graphite")
  cpu_target="scale(sumSeries($P.ps_cputime.*),0.000001)"
  if "${RENDER[@]}" "$WORK/render.json" json -2min "$P.load.shortterm" "$cpu_target" 2>"$WORK/render.err"; then
    # The mean CPU (cores) of the window's points, as graphite-web computes the target.
    r_cpu=$("$PY" -c 'import json, sys
d = json.load(open(sys.argv[1]))
v = [p[0] for p in d[1]["datapoints"] if p[0] is not None and int(sys.argv[2]) < p[1] <= int(sys.argv[3])]
print("%.3f %d" % (sum(v) / len(v), len(v)) if v else "0 0")' "$WORK/render.json" "$T0" "$T1")
    read -r r_cores r_n <<<"$r_cpu"
    check "graphite-web render (format=json): CPU $r_cores cores over $r_n points is whisper's $user+$syst us/s" \
      awk -v c="$r_cores" -v u="$user" -v s="$syst" 'BEGIN{r = (u + s) / 1e6; exit !(c > 0 && c >= r * 0.95 - 0.01 && c <= r * 1.05 + 0.01)}'
  else
    fail "graphite-web render (format=json): $(head -c 300 "$WORK/render.err")"
  fi
  png=${RENDER_PNG:-$WORK/render.png}
  "${RENDER[@]}" "$png" png -2min "alias($P.load.shortterm,\"load (shortterm)\")" \
    "alias(secondYAxis($cpu_target),\"CPU (cores, right axis)\")" 2>"$WORK/render.err"
  check "graphite-web render (format=png): a PNG of load and CPU ($(stat -c %s "$png" 2>/dev/null) bytes)" \
    eval "[ \"\$(head -c 8 '$png' | od -An -tx1 | tr -d ' ')\" = 89504e470d0a1a0a ]"
else
  echo "graphite-web is not installed: render API not checked (apt-get install graphite-web)"
  [ "${REAL_TESTS_REQUIRED:-0}" = 1 ] && fail "graphite-web is required (REAL_TESTS_REQUIRED=1)"
fi

check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
errors_in_log | head -5
finish
