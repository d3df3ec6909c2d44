#!/bin/bash
# Container churn against a real collectd (root):  tests/stress/churn.sh [CYCLES]
# CYCLES containers (default 10000; CI runs 500) are created and destroyed continuously while
# collectd runs the plugin at Interval 1: cgroups in Docker's cgroupfs layout in the v1
# controllers and the unified tree, each with one sleeping process, every third one in its own
# network namespace; plus 2 long-lived containers (one with its own namespace). Asserts at the
# end: collectd alive; its fd count exactly equal and its RSS within 1 MiB between after the
# warm-up and the end; no network namespace made here is still referenced by any process; no
# collectd thread outside the host's namespace; no ERROR lines and no failed read callback; the
# long-lived containers' values flowed with no gap longer than two intervals.
# Environment: PLUGIN_SO (default .libs/container.so), CHURN_DRIVER (a built churn_driver,
# else it is compiled here with ${CC:-cc}), CHURN_RATE (containers started per second, 10),
# CHURN_ALIVE (alive at once, 8), KEEP_WORK=1 keeps the work directory.
HERE=$(cd "$(dirname "$0")" && pwd)
. "$HERE/../integration/lib.sh"
CYCLES=${1:-10000}
RATE=${CHURN_RATE:-10}
ALIVE=${CHURN_ALIVE:-8}
INTERVAL=1
require_root
command -v lsns >/dev/null || skip "lsns (util-linux) is needed"

CG=/sys/fs/cgroup
HIER=()
if [ -f "$CG/cgroup.controllers" ]; then
  HIER=(.)
else
  for c in cpu cpuacct memory blkio pids; do [ -d "$CG/$c" ] && HIER+=("$c"); done
  [ -d "$CG/unified" ] && HIER+=(unified)
fi
[ ${#HIER[@]} -ge 1 ] || skip "no cgroup hierarchy under $CG"
HLIST=$(IFS=,; echo "${HIER[*]}")

make_workdir
# A copy of collectd under its own name: a long run on a shared machine must survive someone
# else's "pkill -x collectd" (.ci/run does that).
cp "$COLLECTD_BIN" "$WORK/collectd-stress" && COLLECTD_BIN=$WORK/collectd-stress
DRIVER=${CHURN_DRIVER:-}
if [ -z "$DRIVER" ] || [ ! -x "$DRIVER" ]; then
  DRIVER=$WORK/churn_driver
  ${CC:-cc} -O2 -Wall -o "$DRIVER" "$HERE/churn_driver.c" || { echo "FAIL: cannot build churn_driver"; exit 1; }
fi
LONG_PID=""
CHURN_PID=""
stop_long() {
  [ -n "$CHURN_PID" ] && kill -TERM "$CHURN_PID" 2>/dev/null && wait "$CHURN_PID" 2>/dev/null
  [ -n "$LONG_PID" ] || return 0
  kill -TERM "$LONG_PID" 2>/dev/null
  wait "$LONG_PID" 2>/dev/null
  LONG_PID=""
}
trap 'stop_long; cleanup' EXIT

READ_THREADS=5 write_config "$INTERVAL" "  DockerRoot \"$WORK/docker\"
  Container \"/^chn_/\""

# CPU time (user + system, in clock ticks) of a process and all its threads.
cpu_of() { awk '{print $14 + $15}' "/proc/$1/stat" 2>/dev/null || echo 0; }
HOST_NS=$(stat -L -c %i /proc/self/ns/net)
# Threads of collectd outside the host namespace. The plugin's own namespace worker enters a
# container's namespace for a moment by design; collectd's threads (reader#N, writer#N, main...)
# never may. Prints "TID:COMM" of every offender; with "all" the worker counts too.
threads_outside() {
  local t ino comm
  for t in /proc/"$COLLECTD_PID"/task/*; do
    ino=$(stat -L -c %i "$t/ns/net" 2>/dev/null) || continue
    [ "$ino" = "$HOST_NS" ] && continue
    comm=$(cat "$t/comm" 2>/dev/null)
    echo "${t##*/}:$comm"
  done
}
NS_BASE=$(lsns -t net -n 2>/dev/null | wc -l)

start_collectd || { fail "collectd starts"; finish; exit; }
"$DRIVER" -c "$HLIST" -d "$WORK/docker" -p chn_ -n 0 -L 2 -H -o "$WORK/ns-long" \
  >"$WORK/long.out" 2>&1 &
LONG_PID=$!
T_START=$(date +%s)

WARM=$((CYCLES / 5))
[ "$WARM" -gt 200 ] && WARM=200
[ "$WARM" -lt 20 ] && WARM=20
echo "churn: $CYCLES cycles ($WARM of warm-up) at up to $RATE/s, $ALIVE alive at once, hierarchies $HLIST"
"$DRIVER" -c "$HLIST" -d "$WORK/docker" -p chn_w -n "$WARM" -a "$ALIVE" -s "$RATE" -o "$WORK/ns-warm" \
  >"$WORK/warm.out" 2>&1
sleep $((3 * INTERVAL))
read -r FD_BEFORE RSS_BEFORE < <(measure)
T_WARM=$(date +%s)
CPU_WARM=$(cpu_of "$COLLECTD_PID")

"$DRIVER" -c "$HLIST" -d "$WORK/docker" -p chn_ -n "$((CYCLES - WARM))" -a "$ALIVE" -s "$RATE" \
  -o "$WORK/ns-churn" >"$WORK/churn.out" 2>&1 &
CHURN_PID=$!
OUTSIDE=""
SAMPLES=0
while kill -0 "$CHURN_PID" 2>/dev/null; do
  o=$(threads_outside | grep -vE '^[0-9]+:$' || true)
  SAMPLES=$((SAMPLES + 1))
  # More than one thread outside at once, or a collectd-named thread, is a failure.
  if [ "$(echo "$o" | grep -c .)" -gt 1 ] || echo "$o" | grep -qE ':(reader|writer|collectd)'; then
    OUTSIDE="$OUTSIDE $o"
  fi
  kill -0 "$COLLECTD_PID" 2>/dev/null || break
  echo "$(date +%s) $(fds_of "$COLLECTD_PID") $(rss_of "$COLLECTD_PID")" >>"$WORK/trend"
  sleep 1
done
wait "$CHURN_PID"
CHURN_RC=$?
CHURN_PID=""
sleep $((3 * INTERVAL))
ALIVE_END=no
kill -0 "$COLLECTD_PID" 2>/dev/null && ALIVE_END=yes
read -r FD_AFTER RSS_AFTER < <(measure)
OUTSIDE_END=$(threads_outside)
T_END=$(date +%s)
CPU_END=$(cpu_of "$COLLECTD_PID")
stop_long
# The namespaces made here that collectd still holds (a thread in it or an open fd). Every
# container process is gone (the driver could remove every cgroup), so collectd is the only
# possible holder; a global scan would see other users' new namespaces reusing freed inodes.
LEFT=$("$DRIVER" -C "$WORK"/ns-* -P "$COLLECTD_PID" 2>"$WORK/left.err")
GLOBAL=$("$DRIVER" -C "$WORK"/ns-* 2>/dev/null)
NS_END=$(lsns -t net -n 2>/dev/null | wc -l)
stop_collectd

cat "$WORK/warm.out" "$WORK/churn.out" "$WORK/long.out" | sed 's/^/driver: /'
echo "collectd fds: $FD_BEFORE after warm-up, $FD_AFTER at the end"
echo "collectd RSS: $RSS_BEFORE KiB after warm-up, $RSS_AFTER KiB at the end ($((RSS_AFTER - RSS_BEFORE)) KiB)"
# RSS (KiB) at each tenth of the churn, to tell a slow leak from a one-off step.
[ -s "$WORK/trend" ] && echo "collectd RSS during the churn: $(awk '{r[NR] = $3} END {for (i = 1; i <= 10; i++) printf "%s ", r[int(NR * i / 10)]}' "$WORK/trend")"
[ -s "$WORK/trend" ] && echo "collectd fds during the churn (1 s samples, a read in flight included): $(awk 'NR == 1 || $2 < lo {lo = $2} $2 > hi {hi = $2} END {print lo ".." hi}' "$WORK/trend")"
TCK=$(getconf CLK_TCK)
echo "collectd CPU after the warm-up: $(awk -v c=$((CPU_END - CPU_WARM)) -v t="$TCK" -v s=$((T_END - T_WARM)) 'BEGIN {printf "%.1f s in %d s (%.1f%% of one core)", c / t, s, s ? 100 * c / t / s : 0}')"
NS_MADE=$(cat "$WORK"/ns-* | grep -c .)
echo "network namespaces: $NS_MADE made, $LEFT held by collectd at the end (inode numbers in use by any process: $GLOBAL; lsns -t net: $NS_BASE before, $NS_END after: other users share this host)"

check "collectd alive at the end" test "$ALIVE_END" = yes
check "churn driver finished cleanly (exit $CHURN_RC)" test "$CHURN_RC" -eq 0
check "fd count flat ($FD_BEFORE -> $FD_AFTER)" test "$FD_BEFORE" -eq "$FD_AFTER"
check "RSS within 1 MiB ($RSS_BEFORE -> $RSS_AFTER KiB)" \
  test $((RSS_AFTER - RSS_BEFORE)) -le 1024 -a $((RSS_BEFORE - RSS_AFTER)) -le 1024
check "no network namespace survives its container ($LEFT held by collectd)" test "$LEFT" = 0
[ -s "$WORK/left.err" ] && sed 's/^/    /' "$WORK/left.err" | head -5
check "no collectd thread outside the host namespace during the run ($SAMPLES samples)" \
  test -z "$(echo $OUTSIDE)"
[ -n "$(echo $OUTSIDE)" ] && echo "    outside: $OUTSIDE" | head -c 400
check "no collectd thread outside the host namespace at the end" test -z "$OUTSIDE_END"
errs=$(grep -F '[error]' "$WORK/collectd.log" || true)
check "no ERROR lines ($(echo -n "$errs" | grep -c .))" test -z "$errs"
[ -n "$errs" ] && echo "$errs" | head -5 | sed "s/^/    /"
check "no failed read callback" test -z "$(grep -F 'read-function of plugin `container' "$WORK/collectd.log")"

# Gaps in the long-lived containers' series between the end of the warm-up and the end.
for n in 0 1; do
  rows=$(cat "$WORK/csv/$TESTHOST/container-chn_long_$n/"ps_cputime-* 2>/dev/null | grep -v '^epoch')
  gap=$(echo "$rows" | awk -F, -v a="$T_START" -v b="$T_END" '
    $1 >= a && $1 <= b { if (p) { d = $1 - p; if (d > m) m = d } p = $1; n++ }
    END { if (n < 2) print "none"; else printf "%.2f %d %.0f", m, n, p }')
  read -r g nrows last <<<"$gap"
  echo "long-lived container chn_long_$n: $nrows values, max gap $g s"
  check "chn_long_$n values flowed throughout (max gap $g s <= 2 intervals)" \
    awk -v g="$g" -v i="$INTERVAL" -v l="${last:-0}" -v e="$T_END" -v s="$T_WARM" \
    'BEGIN { exit !(g != "none" && g + 0 <= 2 * i + 0.25 && l >= e - 6 * i) }'
done
echo "churn numbers: cycles=$CYCLES fds=$FD_BEFORE/$FD_AFTER rss_kib=$RSS_BEFORE/$RSS_AFTER namespaces_left=$LEFT errors=$(echo -n "$errs" | grep -c .) cpu_ticks=$((CPU_END - CPU_WARM)) duration=$((T_END - T_START))s"
finish
