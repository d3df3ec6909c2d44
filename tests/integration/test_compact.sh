#!/bin/bash
# Compact mode and kept-open cgroup files, in a real collectd: one list per metric group with
# the shipped types file, the same numbers as the standard lists' sources, the kept fds above
# 1024, and all of them closed again once the container's cgroup is removed.
. "$(dirname "$0")/lib.sh"
require_root
require_v1_controllers
TYPES="$TOP_SRCDIR/contrib/container-types.db"
[ -r "$TYPES" ] || { fail "contrib/container-types.db readable"; finish; exit; }

make_workdir
BUSY_ID=$(random_id)
make_cgroup "docker/$BUSY_ID" "${CONTROLLERS[@]}"
fake_docker_name "$BUSY_ID" cmp_busy
sh -c 'while :; do :; done' &
BUSY_PID=$!
PIDS_STARTED+=("$BUSY_PID")
move_pid "$BUSY_PID" "docker/$BUSY_ID" "${CONTROLLERS[@]}"
# 1 MiB of page cache charged to the container: written by a process inside it.
PROCS=()
for c in "${CONTROLLERS[@]}"; do PROCS+=("/sys/fs/cgroup/$c/docker/$BUSY_ID/cgroup.procs"); done
sh -c 'out=$1; shift; for f in "$@"; do echo $$ >"$f"; done; head -c 1048576 /dev/zero >"$out"' \
  sh "$WORK/charged" "${PROCS[@]}"

write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^cmp_/\"
  Compact true" "TypesDB \"$TYPES\""
start_collectd || { fail "collectd starts"; finish; exit; }

check "container_cpu appears" wait_for_csv cmp_busy container_cpu 5 20
check "container_load appears" wait_for_csv cmp_busy container_load 3 10
# Header: epoch + the type's data sources, in the types file's order.
header() { head -n 1 "$(csv_file cmp_busy "$1")"; }
check "container_cpu columns ($(header container_cpu))" \
  test "$(header container_cpu)" = "epoch,user,system,cfs_periods,cfs_throttled,cfs_throttled_ms"
check "container_memory columns" \
  test "$(header container_memory)" = "epoch,usage,limit,anon,file,swap,minflt,majflt,oom_kill"
check "container_load columns" \
  test "$(header container_load)" = "epoch,running,blocked,sleeping,stopped,iowait,shortterm,midterm,longterm"
check "no standard lists in compact mode" test -z "$(csv_file cmp_busy ps_cputime)$(csv_file cmp_busy load)"
# The busy loop: about 1e6 µs of CPU per second, 1 running task.
rate=$(csv_rows cmp_busy container_cpu | awk -F, 'NR==1{t0=$1; c0=$2+$3} {t=$1; c=$2+$3} END{ if (t>t0) printf "%.0f", (c-c0)/(t-t0); else print -1 }')
check "busy loop's CPU from container_cpu: $rate us/s (0.5e6 .. 1.1e6)" \
  awk -v r="$rate" 'BEGIN{exit !(r >= 500000 && r <= 1100000)}'
running=$(csv_rows cmp_busy container_load | tail -n 1 | cut -d, -f2)
check "container_load running = 1 ($running)" awk -v r="$running" 'BEGIN{exit !(r == 1)}'
usage=$(csv_rows cmp_busy container_memory | tail -n 1 | cut -d, -f2)
file=$(csv_rows cmp_busy container_memory | tail -n 1 | cut -d, -f5)
check "container_memory usage >= the 1 MiB written inside ($usage)" \
  awk -v r="$usage" 'BEGIN{exit !(r >= 1048576)}'
check "container_memory file >= the 1 MiB written inside ($file)" \
  awk -v r="$file" 'BEGIN{exit !(r >= 1048576)}'
check "container_delay appears (context switches, diagnosis)" wait_for_csv cmp_busy container_delay 2 10

# Kept fds: the container's directories and files, at 1024 and above.
high_fds() { ls /proc/"$COLLECTD_PID"/fd 2>/dev/null | awk '$1 >= 1024' | wc -l; }
kept=$(high_fds)
check "cgroup files kept open above fd 1024 ($kept)" test "$kept" -ge 8

# The container goes away: every kept fd is closed, with no ERROR.
kill -9 "$BUSY_PID"; wait "$BUSY_PID" 2>/dev/null
for c in "${CONTROLLERS[@]}"; do
  d=/sys/fs/cgroup/$c/docker/$BUSY_ID
  [ "$c" = unified ] && d=/sys/fs/cgroup/unified/docker/$BUSY_ID
  rmdir "$d" 2>/dev/null
done
for i in $(seq 1 25); do [ "$(high_fds)" -eq 0 ] && break; sleep 0.2; done
check "kept fds closed after the cgroup is removed ($(high_fds) left)" test "$(high_fds)" -eq 0
sleep 1
check "no ERROR in the log" test -z "$(errors_in_log)"
stop_collectd
finish
