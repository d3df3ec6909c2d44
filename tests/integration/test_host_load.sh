#!/bin/bash
# _host from the kernel's own numbers (issue 18): with CollectHost true, the plugin's load for
# plugin instance "_host" equals /proc/loadavg read in the same second (both are the kernel's
# avenrun as /proc/loadavg prints it, 2 decimals), at Interval 1 and 10, for HOST_LOAD_SECONDS
# (60; 180 for a 3-minute record) with a changing workload (0, 2, 0 busy loops). ps_state-running and -blocked are /proc/stat's
# procs_running and procs_blocked: running >= 1 (the reading thread), both whole numbers.
. "$(dirname "$0")/lib.sh"
require_root
DURATION=${HOST_LOAD_SECONDS:-60} # 180 for a 3-minute record

make_workdir
BASE=$WORK
# A sampler: every 0.1 s, "epoch.ns 1min 5min 15min" from /proc/loadavg.
sample_loadavg() {
  while :; do
    printf '%s %s\n' "$(date +%s.%N)" "$(cut -d' ' -f1-3 /proc/loadavg)"
    sleep 0.1
  done >>"$BASE/loadavg.samples"
}

DAEMONS=()
for iv in 1 10; do
  WORK=$BASE/i$iv
  mkdir -p "$WORK/csv"
  cp -r "$BASE/plugins" "$WORK/"
  write_config "$iv" "  CollectHost true
  Container \"/^no-container-is-called-this\$/\""
  start_collectd || { fail "collectd (Interval $iv) starts"; finish; exit; }
  DAEMONS+=("$COLLECTD_PID")
  COLLECTD_PID=""
done
WORK=$BASE
sample_loadavg &
PIDS_STARTED+=($!)

busy=()
third=$((DURATION / 3))
sleep "$third"
for i in 1 2; do sh -c 'while :; do :; done' & busy+=($!); PIDS_STARTED+=($!); done
sleep "$third"
kill "${busy[@]}"
sleep "$third"

# matched DIR: for every _host load row that has /proc/loadavg samples within 1 s before and
# after it (on a loaded machine the sampling loop itself can stall for seconds: such rows are
# not judged), whether one of those samples has the same three values (the kernel's averages
# move every 5 s, so the value at the row's time is the one before or after it); prints
# "matched/judged rows worst_diff".
matched() {
  local f
  f=$(ls -1 "$1/csv/$TESTHOST/container-_host"/load-* 2>/dev/null | tail -n 1)
  [ -n "$f" ] || { echo "0/0 0 -1"; return; }
  grep -v '^epoch' "$f" | awk -F, -v S="$BASE/loadavg.samples" '
    BEGIN { while ((getline l < S) > 0) { split(l, a, " "); n++; t[n] = a[1]; v[n] = a[2] " " a[3] " " a[4] } }
    { rows++; want = sprintf("%.2f %.2f %.2f", $2, $3, $4); ok = 0; best = 99; before = 0; after = 0
      for (i = 1; i <= n; i++) {
        if (t[i] < $1 - 1 || t[i] > $1 + 1) continue
        if (t[i] <= $1) before = 1; else after = 1
        split(v[i], k, " "); d = $2 - k[1]; if (d < 0) d = -d; if (d < best) best = d
        if (sprintf("%.2f %.2f %.2f", k[1], k[2], k[3]) == want) ok = 1
      }
      if (!before || !after) next
      judged++; good += ok; if (best > worst) worst = best }
    END { printf "%d/%d %d %.2f\n", good, judged, rows, worst }'
}
for iv in 1 10; do
  read -r m rows w < <(matched "$BASE/i$iv")
  good=${m%/*} judged=${m#*/}
  echo "Interval $iv: $good of $judged rows judged ($rows in all) equal to /proc/loadavg within 1 s (worst 1-min difference $w)"
  check "Interval $iv: _host load rows ($rows) >= $((DURATION / iv / 2))" test "$rows" -ge $((DURATION / iv / 2))
  check "Interval $iv: at least 80 % of the rows judged ($judged of $rows)" test $((judged * 5)) -ge $((rows * 4))
  check "Interval $iv: every judged _host load row equals /proc/loadavg read within 1 s" test "$good" -eq "$judged" -a "$judged" -gt 0
  d=$BASE/i$iv/csv/$TESTHOST/container-_host
  r=$(ls -1 "$d"/ps_state-running-* 2>/dev/null | tail -n 1)
  b=$(ls -1 "$d"/ps_state-blocked-* 2>/dev/null | tail -n 1)
  check "Interval $iv: _host ps_state-running are whole numbers >= 1" \
    sh -c "[ -n '$r' ] && grep -v '^epoch' '$r' | awk -F, '{ if (\$2 < 1 || \$2 != int(\$2)) bad = 1 } END { exit bad || NR == 0 }'"
  check "Interval $iv: _host ps_state-blocked are whole numbers >= 0" \
    sh -c "[ -n '$b' ] && grep -v '^epoch' '$b' | awk -F, '{ if (\$2 < 0 || \$2 != int(\$2)) bad = 1 } END { exit bad || NR == 0 }'"
done
for pid in "${DAEMONS[@]}"; do COLLECTD_PID=$pid; stop_collectd; done
for iv in 1 10; do
  WORK=$BASE/i$iv
  check "no ERROR lines (Interval $iv)" test -z "$(errors_in_log)"
done
WORK=$BASE
finish
