#!/bin/bash
# One container with a CPU cap, a memory limit (and a swap limit), a pids limit, direct I/O to the
# guest's virtio disk, a process that swaps and one that the OOM killer ends. Once it has run, all
# its processes are stopped (SIGSTOP) so the kernel's counters hold still; then every identifier
# collectd wrote for it is compared with the kernel's own file.
. "$(dirname "$0")/lib.sh"
require_root
command -v python3 >/dev/null || skip "needs python3 (to hold memory)"

make_workdir
ID=$(random_id)
REL=docker/$ID
NAME=vm_acct
ctr_make "$REL"
fake_docker_name "$ID" "$NAME"
MIB=$((1024 * 1024))

# Limits first: the plugin reads them with its first read of the container.
if [ "$VM_LAYOUT" = v2 ]; then
  echo "50000 100000" >"$CG/$REL/cpu.max"
  echo $((16 * MIB)) >"$CG/$REL/memory.max"
  echo $((16 * MIB)) >"$CG/$REL/memory.swap.max"
else
  echo 100000 >"$(kpath cpu "$REL" cpu.cfs_period_us)"
  echo 50000 >"$(kpath cpu "$REL" cpu.cfs_quota_us)"
  echo $((16 * MIB)) >"$(kpath memory "$REL" memory.limit_in_bytes)"
  echo $((32 * MIB)) >"$(kpath memory "$REL" memory.memsw.limit_in_bytes)"
fi
echo 64 >"$(kpath pids "$REL" pids.max)"
if [ "$VM_LAYOUT" = v1 ]; then
  # Linux 6.1's blk-throttle counts a v1 cgroup's I/O (blkio.throttle.io_service*) only on
  # devices with a rule (none here reads 0): a rule far above what the guest can do.
  for d in vda vdb; do
    echo "$(cat /sys/block/$d/dev) 10000000000" >"$(kpath blkio "$REL" blkio.throttle.write_bps_device)"
    echo "$(cat /sys/block/$d/dev) 10000000000" >"$(kpath blkio "$REL" blkio.throttle.read_bps_device)"
  done
fi

# Swap on the guest's second disk.
mkswap /dev/vdb >/dev/null && swapon /dev/vdb
HAVE_SWAP=0
[ "$(awk '/SwapTotal/{print $2}' /proc/meminfo)" -gt 0 ] && HAVE_SWAP=1

write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\"
  CollectAllTaskStates true"
start_collectd || { fail "collectd starts"; finish; exit; }

in_ctr "$REL" sh -c 'while :; do :; done'
in_ctr "$REL" sleep 600
# 20 MiB touched under a 16 MiB limit: at least 4 MiB go to swap.
in_ctr "$REL" python3 -c 'import time; b = b"x" * (20 << 20); time.sleep(600)'
HOLDER=$LAST_PID
# The OOM killer must pick the next process, not this one.
echo -1000 >"/proc/$HOLDER/oom_score_adj"
check "$NAME's ps_cputime appears" wait_for_csv "$NAME" ps_cputime 2 30
phase "holder started; the OOM victim next"
# 48 MiB cannot fit in 16 MiB + 16 MiB of swap: the OOM killer ends it.
in_ctr "$REL" python3 -c 'b = b"x" * (48 << 20)'
OOM=$LAST_PID
wait "$OOM" 2>/dev/null
echo "the 48 MiB process ended with status $? (137: killed)"
phase "direct I/O"
in_ctr "$REL" dd if=/dev/zero of=/dev/vda bs=64k count=64 oflag=direct status=none
wait "$LAST_PID"
in_ctr "$REL" dd if=/dev/vda of=/dev/null bs=64k count=32 iflag=direct status=none
wait "$LAST_PID"
# CPU time and throttling accrue for a few more intervals.
wait_rows "$NAME" ps_cputime 3 30
diag_busy=$(csv_rows "$NAME" gauge-cpu_diagnosis | cut -d, -f2 | cut -d. -f1 | tr '\n' ' ')

phase "stopping the container"
stop_ctr "$REL"
# A task-state sample (every 5 s) and two reads after everything stood still.
sleep 5.5
check "rows after the stop" wait_rows "$NAME" ps_cputime 2 20
sleep 0.3

phase "comparing"
echo "--- dispatched for $NAME ($VM_LAYOUT):"
dispatched "$NAME" | tr '\n' ' '
echo

cpu=$(last_row "$NAME" ps_cputime)
if [ "$VM_LAYOUT" = v2 ]; then
  st=$(kpath cpu "$REL" cpu.stat)
  same "ps_cputime user (cpu.stat user_usec)" "$(col "$cpu" 1)" "$(kkey "$st" user_usec)"
  same "ps_cputime syst (cpu.stat system_usec)" "$(col "$cpu" 2)" "$(kkey "$st" system_usec)"
  thr_ms=$(($(kkey "$st" throttled_usec) / 1000))
else
  same "ps_cputime user (cpuacct.usage_user / 1000)" "$(col "$cpu" 1)" $(($(kread cpuacct "$REL" cpuacct.usage_user) / 1000))
  same "ps_cputime syst (cpuacct.usage_sys / 1000)" "$(col "$cpu" 2)" $(($(kread cpuacct "$REL" cpuacct.usage_sys) / 1000))
  st=$(kpath cpu "$REL" cpu.stat)
  thr_ms=$(($(kkey "$st" throttled_time) / 1000000))
fi
same "operations-cfs_periods (cpu.stat nr_periods)" "$(col "$(last_row "$NAME" operations-cfs_periods)" 1)" "$(kkey "$st" nr_periods)"
same "operations-cfs_throttled (cpu.stat nr_throttled)" "$(col "$(last_row "$NAME" operations-cfs_throttled)" 1)" "$(kkey "$st" nr_throttled)"
same "total_time_in_ms-cfs_throttled (cpu.stat throttled, ms)" "$(col "$(last_row "$NAME" total_time_in_ms-cfs_throttled)" 1)" "$thr_ms" 1
check "the cap throttled the busy loop (nr_throttled > 0)" test "$(kkey "$st" nr_throttled)" -gt 0

if [ "$VM_LAYOUT" = v2 ]; then
  ms=$(kpath memory "$REL" memory.stat)
  same "memory-usage (memory.current)" "$(col "$(last_row "$NAME" memory-usage)" 1)" "$(kread memory "$REL" memory.current)" 8192
  same "memory-limit (memory.max)" "$(col "$(last_row "$NAME" memory-limit)" 1)" "$(kread memory "$REL" memory.max)"
  same "memory-anon (memory.stat anon)" "$(col "$(last_row "$NAME" memory-anon)" 1)" "$(kkey "$ms" anon)" 8192
  same "memory-file (memory.stat file)" "$(col "$(last_row "$NAME" memory-file)" 1)" "$(kkey "$ms" file)" 8192
  swap_file=memory.swap.current
  swap_now=$(kread memory "$REL" memory.swap.current)
  flt=(pgfault pgmajfault)
  oom=$(kkey "$(kpath memory "$REL" memory.events)" oom_kill)
  oom_file="memory.events oom_kill"
else
  ms=$(kpath memory "$REL" memory.stat)
  same "memory-usage (memory.usage_in_bytes)" "$(col "$(last_row "$NAME" memory-usage)" 1)" "$(kread memory "$REL" memory.usage_in_bytes)" 8192
  same "memory-limit (memory.limit_in_bytes)" "$(col "$(last_row "$NAME" memory-limit)" 1)" "$(kread memory "$REL" memory.limit_in_bytes)"
  same "memory-anon (memory.stat total_rss)" "$(col "$(last_row "$NAME" memory-anon)" 1)" "$(kkey "$ms" total_rss)" 8192
  same "memory-file (memory.stat total_cache)" "$(col "$(last_row "$NAME" memory-file)" 1)" "$(kkey "$ms" total_cache)" 8192
  swap_file="memory.stat total_swap"
  swap_now=$(kkey "$ms" total_swap)
  flt=(total_pgfault total_pgmajfault)
  oom=$(kkey "$(kpath memory "$REL" memory.oom_control)" oom_kill)
  oom_file="memory.oom_control oom_kill"
fi
if [ "$HAVE_SWAP" = 1 ]; then
  same "memory-swap ($swap_file)" "$(col "$(last_row "$NAME" memory-swap)" 1)" "$swap_now" 8192
  check "the 20 MiB holder swapped (at least 2 MiB: $swap_now)" test "$swap_now" -ge $((2 * MIB))
else
  echo "note: no swap in this guest: memory-swap not checked"
fi
pf=$(last_row "$NAME" vmpage_faults)
same "vmpage_faults minflt (memory.stat ${flt[0]})" "$(col "$pf" 1)" "$(kkey "$ms" "${flt[0]}")"
same "vmpage_faults majflt (memory.stat ${flt[1]})" "$(col "$pf" 2)" "$(kkey "$ms" "${flt[1]}")"
same "total_events-oom_kill ($oom_file)" "$(col "$(last_row "$NAME" total_events-oom_kill)" 1)" "$oom"
check "the 48 MiB process was OOM-killed (oom_kill >= 1)" test "$oom" -ge 1

# Block I/O: one line per device in the kernel's file, dispatched under the device's name.
if [ "$VM_LAYOUT" = v2 ]; then
  while read -r dev rest; do
    name=$(basename "$(readlink -f /sys/dev/block/$dev)")
    oct=$(last_row "$NAME" "disk_octets-$name") ops=$(last_row "$NAME" "disk_ops-$name")
    same "disk_octets-$name read (io.stat $dev rbytes)" "$(col "$oct" 1)" "$(echo "$rest" | kkey /dev/stdin rbytes)"
    same "disk_octets-$name write (io.stat $dev wbytes)" "$(col "$oct" 2)" "$(echo "$rest" | kkey /dev/stdin wbytes)"
    same "disk_ops-$name read (io.stat $dev rios)" "$(col "$ops" 1)" "$(echo "$rest" | kkey /dev/stdin rios)"
    same "disk_ops-$name write (io.stat $dev wios)" "$(col "$ops" 2)" "$(echo "$rest" | kkey /dev/stdin wios)"
  done <"$(kpath io "$REL" io.stat)"
else
  bytes=$(kpath blkio "$REL" blkio.throttle.io_service_bytes_recursive)
  ios=$(kpath blkio "$REL" blkio.throttle.io_serviced_recursive)
  for dev in $(awk 'NF == 3 {print $1}' "$bytes" | sort -u); do
    name=$(basename "$(readlink -f /sys/dev/block/$dev)")
    oct=$(last_row "$NAME" "disk_octets-$name") ops=$(last_row "$NAME" "disk_ops-$name")
    pick() { awk -v d="$dev" -v k="$2" '$1 == d && $2 == k {print $3}' "$1"; }
    same "disk_octets-$name read (io_service_bytes_recursive $dev Read)" "$(col "$oct" 1)" "$(pick "$bytes" Read)"
    same "disk_octets-$name write (io_service_bytes_recursive $dev Write)" "$(col "$oct" 2)" "$(pick "$bytes" Write)"
    same "disk_ops-$name read (io_serviced_recursive $dev Read)" "$(col "$ops" 1)" "$(pick "$ios" Read)"
    same "disk_ops-$name write (io_serviced_recursive $dev Write)" "$(col "$ops" 2)" "$(pick "$ios" Write)"
  done
fi
oct=$(last_row "$NAME" disk_octets-vda)
check "the direct writes to vda are counted (>= 4 MiB written: $(col "$oct" 2))" test "$(col "$oct" 2)" -ge $((4 * MIB))
check "the direct reads from vda are counted (>= 2 MiB read: $(col "$oct" 1))" test "$(col "$oct" 1)" -ge $((2 * MIB))

same "count-pids (pids.current)" "$(col "$(last_row "$NAME" count-pids)" 1)" "$(kread pids "$REL" pids.current)"
same "count-pids_max (pids.max)" "$(col "$(last_row "$NAME" count-pids_max)" 1)" "$(kread pids "$REL" pids.max)"

if [ "$VM_LAYOUT" = v2 ]; then
  for r in cpu memory io; do
    for k in some full; do
      want=$(awk -v k="$k" '$1 == k { sub("total=", "", $5); print int($5 / 1000) }' "$CG/$REL/$r.pressure")
      same "total_time_in_ms-pressure_${r}_$k ($r.pressure $k total / 1000)" \
        "$(col "$(last_row "$NAME" "total_time_in_ms-pressure_${r}_$k")" 1)" "$want" 1
    done
  done
else
  check "no PSI on pure v1" test -z "$(csv_file "$NAME" total_time_in_ms-pressure_cpu_some)"
fi

# Task states while everything is stopped: /proc/TID/stat says T for each thread.
nthreads=$(ctr_threads "$REL" | wc -l)
nT=0
for t in $(ctr_threads "$REL"); do
  [ "$(tstate "$t")" = T ] && nT=$((nT + 1))
done
same "ps_state-stopped (threads in state T in /proc/TID/stat)" "$(col "$(last_row "$NAME" ps_state-stopped)" 1)" "$nT"
check "every thread is stopped ($nT of $nthreads)" test "$nT" -eq "$nthreads"
same "ps_state-running (none while stopped)" "$(col "$(last_row "$NAME" ps_state-running)" 1)" 0
same "ps_state-blocked (none while stopped)" "$(col "$(last_row "$NAME" ps_state-blocked)" 1)" 0
same "ps_state-sleeping (none while stopped)" "$(col "$(last_row "$NAME" ps_state-sleeping)" 1)" 0

# iowait comes only from cgroupstats (TaskStateSource), which these layouts do not use here.
same "ps_state-iowait (no source on $VM_LAYOUT with TaskStateSource proc)" "$(col "$(last_row "$NAME" ps_state-iowait)" 1)" 0

# Context switches: taskstats per process; the processes that exited (dd, the OOM victim) count
# too, so the live processes' /proc/PID/status sums are a lower bound (exact in test_delay.sh).
vol=0 invol=0
for p in $(ctr_pids "$REL"); do
  vol=$((vol + $(awk '/^voluntary_ctxt_switches/{print $2}' /proc/$p/status)))
  invol=$((invol + $(awk '/^nonvoluntary_ctxt_switches/{print $2}' /proc/$p/status)))
done
cv=$(col "$(last_row "$NAME" contextswitch-voluntary)" 1)
ci=$(col "$(last_row "$NAME" contextswitch-involuntary)" 1)
IDS+=("contextswitch-voluntary = $cv (live processes' /proc/PID/status: $vol)")
IDS+=("contextswitch-involuntary = $ci (live processes' /proc/PID/status: $invol)")
check "contextswitch-voluntary $cv >= live processes' voluntary_ctxt_switches $vol" test "$cv" -ge "$vol"
check "contextswitch-involuntary $ci >= live processes' nonvoluntary_ctxt_switches $invol" test "$ci" -ge "$invol"

# The CPU diagnosis: cap_throttled (1) while the capped loop ran, not_throttled (0) once stopped.
IDS+=("gauge-cpu_diagnosis = busy: $diag_busy; stopped: $(col "$(last_row "$NAME" gauge-cpu_diagnosis)" 1)")
check "gauge-cpu_diagnosis says cap_throttled (1) while the cap throttled ($diag_busy)" \
  grep -qw 1 <<<"$diag_busy"
same "gauge-cpu_diagnosis once stopped (not_throttled)" "$(col "$(last_row "$NAME" gauge-cpu_diagnosis)" 1)" 0

cont_ctr "$REL"
finish_with_ids
