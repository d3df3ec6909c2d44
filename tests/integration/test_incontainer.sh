#!/bin/bash
# collectd in a container, as contrib/docker/run.sh starts it, against collectd on the host, in
# the same run: a private Docker engine (docker_lib.sh) runs two containers, ct_busy (a busy loop
# and pings on its own loopback, --network none) and ct_idle; one collectd runs on the host and
# one in a container started with contrib/docker/run.sh (its capabilities, mounts and
# contrib/docker/collectd.conf; only the interval, the plugin directory and the interface
# selection changed, and a CSV writer added). No base image can be pulled here, so the image is
# busybox-static with the host's /usr (and /usr/lib as /lib, /usr/lib64 as /lib64) mounted
# read-only: the same collectd binary and plugins as the host's. The test compares both
# collectds' CSV: the same containers by name, the same value files, and CPU, memory and
# loopback counters that agree.
. "$(dirname "$0")/lib.sh"
. "$(dirname "$0")/docker_lib.sh"
. "$(dirname "$0")/stores_lib.sh"
. "$(dirname "$0")/runtime_lib.sh"
require_root
docker_require
WINDOW_SECONDS=${WINDOW_SECONDS:-8}
RUN_SH=${RUN_SH:-$TOP_SRCDIR/contrib/docker/run.sh}
SHIPPED_CONF=$TOP_SRCDIR/contrib/docker/collectd.conf
[ -f "$RUN_SH" ] && [ -f "$SHIPPED_CONF" ] || { echo "FAIL: contrib/docker/run.sh or collectd.conf missing"; exit 1; }

make_workdir
MAIN_WORK=$WORK
incontainer_cleanup() {
  stop_collectd
  WORK=$MAIN_WORK
  docker_cleanup
  cleanup
}
trap incontainer_cleanup EXIT
docker_start || skip "dockerd cannot start here (log above)"
check "busybox image imported" docker_import_busybox

# ---- the collectd image: busybox, mount points for the host's /usr and the plugins ----
R=$WORK/collectd-rootfs
mkdir -p "$R/bin" "$R/usr" "$R/lib" "$R/lib64" "$R/host" "$R/plugins" "$R/etc/collectd/collectd.conf.d" \
  "$R/var/lib/collectd" "$R/tmp" "$R/proc" "$R/sys" "$R/dev"
cp "$BUSYBOX_BIN" "$R/bin/busybox"
ln -s busybox "$R/bin/sh"
check "collectd image imported" eval "tar -C '$R' -cf - . | dk import -c 'CMD [\"/usr/sbin/collectd\", \"-f\", \"-C\", \"/etc/collectd/collectd.conf\"]' - ctest-collectd:1 >/dev/null"

# ---- the containers to watch ----
docker_run ct_busy --network none "$DOCKER_IMAGE" sh -c "$BUSY_CMD" &
r1=$!
docker_run ct_idle "$DOCKER_IMAGE" sleep 3600 &
r2=$!
wait "$r1" "$r2"
docker_ids_collect
BUSY_PID=$(docker_pid ct_busy)
check "ct_busy and ct_idle run" eval 'docker_running ct_busy && docker_running ct_idle'

# ---- collectd on the host ----
PLUGIN_OPTS="  Container \"/^ct_/\"
  Interface \"lo\"
  IgnoreSelectedInterface false"
write_config 1 "  DockerRoot \"$DOCKER_DATA\"
$PLUGIN_OPTS"
start_collectd || { fail "collectd starts on the host"; finish; exit; }

# ---- collectd in a container: contrib/docker's files, pointed at this test ----
C=$WORK/incontainer
mkdir -p "$C/conf.d" "$C/plugins" "$C/out"
for p in csv logfile; do cp "/usr/lib/collectd/$p.so" "$C/plugins/"; done
cp "$PLUGIN_SO" "$C/plugins/container.so"
{
  echo "PluginDir \"/plugins\""
  sed -e 's/^Interval 10$/Interval 1/' \
    -e "s|^<Plugin container>\$|<Plugin container>\n$(printf '%s' "$PLUGIN_OPTS" | sed 's/$/\\n/' | tr -d '\n')|" \
    "$SHIPPED_CONF"
} >"$C/collectd.conf"
check "the shipped collectd.conf got the test's interval and plugin options" \
  eval "grep -q '^Interval 1\$' '$C/collectd.conf' && grep -q 'Container \"/^ct_/\"' '$C/collectd.conf'"
cat >"$C/conf.d/csv.conf" <<CONF
LoadPlugin csv
<Plugin csv>
  DataDir "/var/lib/collectd/csv"
  StoreRates false
</Plugin>
CONF
check "contrib/docker/run.sh starts collectd in a container" \
  env DOCKER="$DOCKER_CLI -H unix://$DOCKER_SOCK" NAME=ctest_collectd IMAGE=ctest-collectd:1 \
  CONF="$C/collectd.conf" CONF_D="$C/conf.d" DOCKER_ROOT="$DOCKER_DATA" \
  sh "$RUN_SH" --restart no --network none -v /usr:/usr:ro -v /usr/lib:/lib:ro -v /usr/lib64:/lib64:ro \
  -v "$C/plugins:/plugins:ro" -v "$C/out:/var/lib/collectd" >"$C/run.out"
docker_ids_collect
echo "collectd's container: $(dk inspect -f '{{.HostConfig.CapAdd}} dropped {{.HostConfig.CapDrop}} pid={{.HostConfig.PidMode}} cgroupns={{.HostConfig.CgroupnsMode}} {{.HostConfig.SecurityOpt}}' ctest_collectd 2>&1)"

# ---- both collect; compare ----
ccsv() { ls -d "$C"/out/csv/*/"container-$1" 2>/dev/null | head -n 1; }
crows() { local f; f=$(ls -1 "$(ccsv "$1")/$2"-* 2>/dev/null | tail -n 1); [ -n "$f" ] && grep -v '^epoch' "$f"; }
wait_rows() { # wait_rows ROWS_FUNCTION NAME TYPE N TIMEOUT
  local i
  for ((i = 0; i < $5 * 5; i++)); do [ "$($1 "$2" "$3" | wc -l)" -ge "$4" ] && return 0; sleep 0.2; done
  return 1
}
check "host: ct_busy's values appear" wait_rows csv_rows ct_busy ps_cputime 2 20
check "in the container: ct_busy's values appear" wait_rows crows ct_busy ps_cputime 2 20 ||
  { dk logs ctest_collectd 2>&1 | tail -n 20; finish; exit; }
T0=$(date +%s.%N) CPU0=$(proc_cpu_us "$BUSY_PID")
sleep "$WINDOW_SECONDS"
T1=$(date +%s.%N) CPU1=$(proc_cpu_us "$BUSY_PID")
sleep 2
proc_rate=$(awk -v a="$CPU0" -v b="$CPU1" -v t0="$T0" -v t1="$T1" 'BEGIN{printf "%.0f", (b - a) / (t1 - t0)}')

names() { for d in "$@"; do basename "$d"; done | sort | tr '\n' ' '; }
h_names=$(names "$WORK/csv/$TESTHOST"/container-*)
c_names=$(names "$C"/out/csv/*/container-*)
echo "host collectd: $h_names; collectd in a container: $c_names"
check "the same containers by name in both (ct_busy and ct_idle)" \
  eval '[ "$h_names" = "$c_names" ] && [ "$h_names" = "container-ct_busy container-ct_idle " ]'
for n in ct_busy ct_idle; do
  hf=$(ls "$WORK/csv/$TESTHOST/container-$n" | sed 's/-[0-9-]*$//' | sort -u | tr '\n' ' ')
  cf=$(ls "$(ccsv "$n")" | sed 's/-[0-9-]*$//' | sort -u | tr '\n' ' ')
  check "$n: the same value files in both ($(echo "$hf" | wc -w) on the host, $(echo "$cf" | wc -w) in the container)" \
    test "$hf" = "$cf"
  [ "$hf" = "$cf" ] || { echo "  host only: $(comm -23 <(tr ' ' '\n' <<<"$hf") <(tr ' ' '\n' <<<"$cf") | tr '\n' ' ')"
    echo "  container only: $(comm -13 <(tr ' ' '\n' <<<"$hf") <(tr ' ' '\n' <<<"$cf") | tr '\n' ' ')"; }
done
# Both collectds read the same kernel counters: merged by time, their rows lie on one
# non-decreasing curve, however late a loaded machine lets either read. TOL absorbs the
# difference between a row's timestamp and the instant of its read.
one_curve() { # one_curve NAME TYPE AWK_VALUE TOL: prints "rows_host rows_container out_of_order"
  { csv_rows "$1" "$2" | awk -F, '{ print $1, '"$3"', "h" }'
    crows "$1" "$2" | awk -F, '{ print $1, '"$3"', "c" }'; } | sort -n -k1,1 |
    awk -v tol="$4" '{ n[$3]++; if (NR > 1 && $2 < prev - tol) bad++; prev = $2 }
      END { printf "%d %d %d", n["h"], n["c"], bad }'
}
close_to() { awk -v a="$1" -v b="$2" -v r="$3" 'BEGIN{exit !(a > 0 && b > 0 && a <= b * (1 + r) && b <= a * (1 + r))}'; }
read -r nh nc bad <<<"$(one_curve ct_busy ps_cputime '$2 + $3' 20000)"
check "ct_busy ps_cputime: host's $nh and container's $nc rows are one non-decreasing curve ($bad out of order by > 20 ms)" \
  eval '[ "$nh" -ge 5 ] && [ "$nc" -ge 5 ] && [ "$bad" -eq 0 ]'
h_last=$(csv_rows ct_busy ps_cputime | tail -n 1 | awk -F, '{printf "%.0f", $2 + $3}')
c_last=$(crows ct_busy ps_cputime | tail -n 1 | awk -F, '{printf "%.0f", $2 + $3}')
check "ct_busy ps_cputime grows in both (host $h_last us, container $c_last us)" \
  eval '[ "${h_last:-0}" -gt 0 ] && [ "${c_last:-0}" -gt 0 ]'
# One ping exchange on lo is 2 x 1028 bytes.
read -r nh nc bad <<<"$(one_curve ct_busy if_octets-lo '$2' 2100)"
check "ct_busy lo rx: host's $nh and container's $nc rows are one non-decreasing curve ($bad out of order)" \
  eval '[ "$nh" -ge 5 ] && [ "$nc" -ge 5 ] && [ "$bad" -eq 0 ]'
read -r nh nc bad <<<"$(one_curve ct_busy if_octets-lo '$3' 2100)"
check "ct_busy lo tx: one non-decreasing curve ($bad out of order)" test "$bad" -eq 0
h_lo=$(csv_rows ct_busy if_octets-lo | tail -n 1 | cut -d, -f2 | cut -d. -f1)
check "ct_busy lo rx counts its pings (host ${h_lo:-0} bytes > 10 x 2056)" test "${h_lo:-0}" -gt 20560
h_mem=$(csv_rows ct_idle memory-usage | tail -n 1 | cut -d, -f2)
c_mem=$(crows ct_idle memory-usage | tail -n 1 | cut -d, -f2)
check "ct_idle memory-usage: host $h_mem, container $c_mem (within 10 %)" close_to "${h_mem:-0}" "${c_mem:-0}" 0.10
# Each collectd's load average starts at 0 when it starts: compare them at the same age (row).
# Each sample of a running task adds 1 - exp(-1/60) = 0.0165 to the 1-minute average at 1 s
# intervals; the two collectds sample at different instants of a loop that is not always on a
# CPU here, so they may differ by a few samples' worth (0.05 = 3 samples). The comparison
# needs both to have read on time (about one row a second).
h_n=$(csv_rows ct_busy load | wc -l) c_n=$(crows ct_busy load | wc -l)
n_rows=$((h_n < c_n ? h_n : c_n))
h_load=$(csv_rows ct_busy load | sed -n "${n_rows}p" | cut -d, -f2)
c_load=$(crows ct_busy load | sed -n "${n_rows}p" | cut -d, -f2)
if [ "$n_rows" -ge $((WINDOW_SECONDS + 2)) ] && awk -v p="$proc_rate" 'BEGIN{exit !(p >= 500000)}'; then
  check "ct_busy load shortterm after $n_rows reads: host $h_load, container $c_load (> 0.05, within 0.05)" \
    awk -v a="${h_load:-0}" -v b="${c_load:-0}" 'BEGIN{d = a - b; if (d < 0) d = -d; exit !(a > 0.05 && b > 0.05 && d <= 0.05)}'
else
  echo "note: saturated machine ($n_rows reads, the busy loop got $proc_rate us/s): load averages not compared"
  check "ct_busy load shortterm is there in both ($h_load, $c_load)" eval '[ -n "$h_load" ] && [ -n "$c_load" ]'
fi

dk logs ctest_collectd >"$C/collectd.log" 2>&1
check "collectd in the container is still running" docker_running ctest_collectd
check "no ERROR lines in the container's collectd log" eval "! grep -E '\[(error|ERROR)\]' '$C/collectd.log'"
grep -E '\[(error|ERROR|warning)\]' "$C/collectd.log" | head -5
stop_collectd
check "no ERROR lines in the host collectd's log" test -z "$(errors_in_log)"
finish
