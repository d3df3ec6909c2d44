#!/bin/bash
# Delay accounting (kernel.task_delayacct=1) and context switches through a real collectd: a
# container of long-lived processes only (a capped busy loop waits for the CPU, a direct reader
# throttled to 32 KiB/s waits for the disk, a sleeper), stopped once the counters moved. The
# plugin's sums of the per-process taskstats are compared with the same counters in /proc:
# schedstat's run_delay (delay_cpu), stat's delayacct_blkio_ticks (delay_blkio) and status's
# context switches.
. "$(dirname "$0")/lib.sh"
require_root
[ -f /proc/sys/kernel/task_delayacct ] || skip "kernel without kernel.task_delayacct"

make_workdir
echo 1 >/proc/sys/kernel/task_delayacct
ID=$(random_id)
REL=docker/$ID
NAME=vm_delay
ctr_make "$REL"
fake_docker_name "$ID" "$NAME"
DEV=$(cat /sys/block/vda/dev)
if [ "$VM_LAYOUT" = v2 ]; then
  echo "30000 100000" >"$CG/$REL/cpu.max"
  echo "$DEV rbps=32768" >"$CG/$REL/io.max"
else
  echo 30000 >"$(kpath cpu "$REL" cpu.cfs_quota_us)"
  echo "$DEV 32768" >"$(kpath blkio "$REL" blkio.throttle.read_bps_device)"
fi
write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\""
start_collectd || { fail "collectd starts"; finish; exit; }
# The plugin counts a process in full when it was born after the container's previous read (it
# cannot tell where), else from the first read that sees it. So a launcher stops itself, a read
# of the container passes, and then it joins: its frozen values are the plugin's baseline of it.
# Once the plugin has read it, it forks the workload, born in the container.
sh -c 'kill -STOP $$
  sh -c "while :; do :; done" &
  sleep 600 &
  dd if=/dev/vda of=/dev/null bs=4k count=100000 iflag=direct status=none &
  wait' &
L=$!
PIDS_STARTED+=("$L")
for i in $(seq 1 50); do [ "$(tstate "$L")" = T ] && break; sleep 0.1; done
check "the empty container is read after the launcher's birth" wait_rows "$NAME" ps_cputime 1 20
for f in $(ctr_procs_files "$REL"); do echo "$L" >"$f"; done
check "delay rows of the launcher appear" wait_for_csv "$NAME" total_time_in_ms-delay_cpu 2 30
pstat() { # pstat PID: run_delay (ns), block I/O delay (ticks), voluntary, involuntary switches
  local run l k val v n
  read -r _ run _ <"/proc/$1/schedstat"
  read -r l <"/proc/$1/stat"
  l=(${l##*) })
  while read -r k val; do
    case $k in voluntary_ctxt_switches:) v=$val ;; nonvoluntary_ctxt_switches:) n=$val ;; esac
  done <"/proc/$1/status"
  echo "$run ${l[39]} $v $n"
}
read -r L_run L_blk L_vol L_invol < <(pstat "$L")
kill -CONT "$L"
wait_rows "$NAME" total_time_in_ms-delay_cpu 4 20
phase "stopping the container"
stop_ctr "$REL"
sleep 0.3
check "rows after the stop" wait_rows "$NAME" total_time_in_ms-delay_cpu 2 20
echo "--- dispatched for $NAME ($VM_LAYOUT):"
dispatched "$NAME" | tr '\n' ' '
echo

# The launcher's share since its baseline, and each workload process's whole life.
run_ns=0 blk_ticks=0 vol=0 invol=0
for p in $(ctr_pids "$REL"); do
  read -r r b v i < <(pstat "$p")
  echo "process $p ($(</proc/$p/comm)): run_delay $r ns, blkio $b ticks, switches $v/$i"
  [ "$p" = "$L" ] && r=$((r - L_run)) b=$((b - L_blk)) v=$((v - L_vol)) i=$((i - L_invol))
  run_ns=$((run_ns + r)) blk_ticks=$((blk_ticks + b)) vol=$((vol + v)) invol=$((invol + i))
done
n=$(ctr_pids "$REL" | wc -l)
hz=$(getconf CLK_TCK)
same "total_time_in_ms-delay_cpu (sum of /proc/PID/schedstat run_delay / 10^6)" \
  "$(col "$(last_row "$NAME" total_time_in_ms-delay_cpu)" 1)" $((run_ns / 1000000)) 1
# /proc gives block I/O delay in clock ticks (truncated): within one tick per process.
same "total_time_in_ms-delay_blkio (sum of /proc/PID/stat delayacct_blkio_ticks, ms)" \
  "$(col "$(last_row "$NAME" total_time_in_ms-delay_blkio)" 1)" $((blk_ticks * 1000 / hz)) $((n * 1000 / hz))
same "total_time_in_ms-delay_swapin (taskstats only; nothing swapped here)" \
  "$(col "$(last_row "$NAME" total_time_in_ms-delay_swapin)" 1)" 0
same "contextswitch-voluntary (sum of /proc/PID/status voluntary_ctxt_switches)" \
  "$(col "$(last_row "$NAME" contextswitch-voluntary)" 1)" "$vol"
same "contextswitch-involuntary (sum of /proc/PID/status nonvoluntary_ctxt_switches)" \
  "$(col "$(last_row "$NAME" contextswitch-involuntary)" 1)" "$invol"
check "the capped loop waited for the CPU (run_delay $run_ns ns > 0)" test "$run_ns" -gt 0
check "the throttled reader waited for the disk ($blk_ticks ticks > 0)" test "$blk_ticks" -gt 0
for k in freepages thrashing compact wpcopy irq; do
  f=$(csv_file "$NAME" "total_time_in_ms-delay_$k")
  [ -n "$f" ] && IDS+=("total_time_in_ms-delay_$k = $(col "$(last_row "$NAME" "total_time_in_ms-delay_$k")" 1) (taskstats only)")
done
cont_ctr "$REL"
echo 0 >/proc/sys/kernel/task_delayacct
finish_with_ids
