#!/bin/bash
# A container's final totals. On cgroup v2 the plugin watches cgroup.events and reads the
# counters once more when the last process is gone, before the cgroup is removed: the test kills
# the container's processes half-way between two regular reads, waits 0.3 s, reads the kernel's
# files, removes the cgroup (as a runtime does), and checks that the first row after the kill
# came before the next regular read with exactly those values, and the "container disappeared"
# notification's totals. On pure v1 (no such event) the totals are the last regular read's.
. "$(dirname "$0")/lib.sh"
require_root

make_workdir
ID=$(random_id)
REL=docker/$ID
NAME=vm_exit
ctr_make "$REL"
fake_docker_name "$ID" "$NAME"
if [ "$VM_LAYOUT" = v2 ]; then echo "50000 100000" >"$CG/$REL/cpu.max"; else
  echo 50000 >"$(kpath cpu "$REL" cpu.cfs_quota_us)"
  d=$(cat /sys/block/vda/dev)
  echo "$d 10000000000" >"$(kpath blkio "$REL" blkio.throttle.write_bps_device)"
fi
# Interval 3, and the kill half-way between two regular reads: a row between the kill and the
# removal can only come from the exit watcher.
write_config 3 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\""
start_collectd || { fail "collectd starts"; finish; exit; }
in_ctr "$REL" sh -c 'while :; do :; done'
in_ctr "$REL" sleep 600
in_ctr "$REL" dd if=/dev/zero of=/dev/vda bs=64k count=32 oflag=direct status=none
wait "$LAST_PID"
check "rows appear" wait_for_csv "$NAME" ps_cputime 2 30
t_regular=$(last_row "$NAME" ps_cputime | cut -d, -f1)
sleep "$(awk -v t="$t_regular" -v now="$EPOCHREALTIME" 'BEGIN{ d = t + 1.5 - now; while (d < 0) d += 3; print d }')"
pids=$(ctr_pids "$REL")
t_kill=$EPOCHREALTIME
kill -9 $pids
sleep 0.3
if [ "$VM_LAYOUT" = v2 ]; then
  check "cgroup.events says populated 0" grep -qx 'populated 0' "$CG/$REL/cgroup.events"
  usr=$(kkey "$CG/$REL/cpu.stat" user_usec) sys=$(kkey "$CG/$REL/cpu.stat" system_usec)
  peak=$(cat "$CG/$REL/memory.peak")
  wbytes=$(awk '$1 == "'"$(cat /sys/block/vda/dev)"'"' "$CG/$REL/io.stat" | kkey /dev/stdin wbytes)
  oom=$(kkey "$CG/$REL/memory.events" oom_kill)
else
  usr=$(($(kread cpuacct "$REL" cpuacct.usage_user) / 1000)) sys=$(($(kread cpuacct "$REL" cpuacct.usage_sys) / 1000))
  peak=$(kread memory "$REL" memory.max_usage_in_bytes)
  wbytes=$(awk '$2 == "Write" && $1 == "'"$(cat /sys/block/vda/dev)"'" {print $3}' "$(kpath blkio "$REL" blkio.throttle.io_service_bytes_recursive)")
  oom=$(kkey "$(kpath memory "$REL" memory.oom_control)" oom_kill)
fi
ctr_remove "$REL" && CGROUPS_MADE=("${CGROUPS_MADE[@]/*$ID*/}")
t_rm=$EPOCHREALTIME
phase "killed and removed; the kernel's last values: user $usr syst $sys peak $peak wbytes $wbytes"
for i in $(seq 1 30); do grep -q "container disappeared: $NAME" "$WORK/collectd.log" && break; sleep 0.2; done
note=$(grep "container disappeared: $NAME" "$WORK/collectd.log" | head -n 1)
echo "notification: ${note#*container disappeared}"
total() { echo "$note" | grep -o "$1=[0-9]*" | cut -d= -f2; }
echo "the last ps_cputime rows (regular reads at $t_regular + 3 k; killed at $t_kill, removed at $t_rm):"
csv_rows "$NAME" ps_cputime | tail -n 3
last=$(last_row "$NAME" ps_cputime)
t_last=${last%%,*}
if [ "$VM_LAYOUT" = v2 ]; then
  first=$(csv_rows "$NAME" ps_cputime | awk -F, -v k="$t_kill" '$1 >= k' | head -n 1)
  same "final ps_cputime user (cpu.stat user_usec after the exit)" "$(col "$first" 1)" "$usr"
  same "final ps_cputime syst (cpu.stat system_usec after the exit)" "$(col "$first" 2)" "$sys"
  check "the first row after the kill came within 1 s, before the next regular read (${first%%,*})" \
    awk -v k="$t_kill" -v t="${first%%,*}" 'BEGIN{ exit !(t >= k && t - k < 1.0) }'
  same "totals cpu_us (cpu.stat user_usec + system_usec)" "$(total cpu_us)" $((usr + sys))
  same "totals memory_peak_bytes (memory.peak)" "$(total memory_peak_bytes)" "$peak"
  same "totals io_write_bytes (io.stat wbytes)" "$(total io_write_bytes)" "$wbytes"
  same "totals oom_kills (memory.events oom_kill)" "$(total oom_kills)" "$oom"
else
  same "totals cpu_us (the last regular read's user + syst)" "$(total cpu_us)" $(($(col "$last" 1) + $(col "$last" 2)))
  check "the last regular read is at most one interval old: cpu_us <= the kernel's $((usr + sys))" \
    test "$(total cpu_us)" -le $((usr + sys))
  check "totals memory_peak_bytes ($(total memory_peak_bytes)) <= memory.max_usage_in_bytes ($peak), > 0" \
    test "$(total memory_peak_bytes)" -le "$peak" -a "$(total memory_peak_bytes)" -gt 0
  same "totals io_write_bytes (io_service_bytes_recursive Write)" "$(total io_write_bytes)" "$wbytes"
  same "totals oom_kills (memory.oom_control oom_kill)" "$(total oom_kills)" "$oom"
fi
sleep 3.5
check "no rows after the removal" test "$(last_row "$NAME" ps_cputime | cut -d, -f1)" = "$t_last"
finish_with_ids
