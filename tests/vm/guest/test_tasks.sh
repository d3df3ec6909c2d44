#!/bin/bash
# Task states and load: a container with two busy loops (R), a sleeper (S) and a direct write held
# up by an I/O throttle of 1 KiB/s on the virtio disk (D, uninterruptible block I/O). The plugin's
# ps_state values are compared with the states /proc/TID/stat gives for the container's threads,
# and its load with the kernel's fixed-point calc_load steps of its own running + blocked counts.
. "$(dirname "$0")/lib.sh"
require_root

make_workdir
ID=$(random_id)
REL=docker/$ID
NAME=vm_tasks
ctr_make "$REL"
fake_docker_name "$ID" "$NAME"
DEV=$(cat /sys/block/vda/dev)
# A CPU cap leaves the guest's CPUs to collectd: a throttled task is still R in /proc.
if [ "$VM_LAYOUT" = v2 ]; then
  echo "$DEV wbps=1024" >"$CG/$REL/io.max"
  echo "20000 100000" >"$CG/$REL/cpu.max"
else
  echo "$DEV 1024" >"$(kpath blkio "$REL" blkio.throttle.write_bps_device)"
  echo 20000 >"$(kpath cpu "$REL" cpu.cfs_quota_us)"
fi

write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\"
  CollectAllTaskStates true"
start_collectd || { fail "collectd starts"; finish; exit; }
in_ctr "$REL" sh -c 'while :; do :; done'
in_ctr "$REL" sh -c 'while :; do :; done'
in_ctr "$REL" sleep 600
# 64 KiB at 1 KiB/s: about a minute in D state, longer than this test.
in_ctr "$REL" dd if=/dev/zero of=/dev/vda bs=64k count=1 oflag=direct status=none
DD=$LAST_PID

# The kernel's view: how many of the container's threads are in each state.
proc_states() {
  local t R=0 D=0 S=0
  for t in $(ctr_threads "$REL"); do
    case $(tstate "$t") in R) R=$((R + 1)) ;; D) D=$((D + 1)) ;; S) S=$((S + 1)) ;; esac
  done
  echo "R=$R D=$D S=$S"
}
check "ps_state rows appear" wait_for_csv "$NAME" ps_state-running 3 30
# Task states are sampled every 5 s (the kernel's load clock) and each read reports the latest
# sample: compare once a sample has seen every process started above.
sleep 6
agree=0 rows=0
for i in 1 2 3 4 5 6; do
  wait_rows "$NAME" ps_state-running 1 10
  k=$(proc_states)
  r=$(col "$(last_row "$NAME" ps_state-running)" 1)
  b=$(col "$(last_row "$NAME" ps_state-blocked)" 1)
  s=$(col "$(last_row "$NAME" ps_state-sleeping)" 1)
  read -r kr kd ks <<<"${k//[RDS]=/}"
  echo "plugin: running=$r blocked=$b sleeping=$s; /proc/TID/stat: $k"
  rows=$((rows + 1))
  [ "$r" = "${kr:-0}" ] && [ "$b" = "${kd:-0}" ] && [ "$s" = "${ks:-0}" ] && agree=$((agree + 1))
done
IDS+=("ps_state-running = $r (/proc/TID/stat R: ${kr:-0})")
IDS+=("ps_state-blocked = $b (/proc/TID/stat D: ${kd:-0})")
IDS+=("ps_state-sleeping = $s (/proc/TID/stat S: ${ks:-0})")
# Both are sampled a moment apart; the states here are steady, so all but one must agree.
check "ps_state running/blocked/sleeping equal /proc/TID/stat's R/D/S ($agree of $rows reads)" test "$agree" -ge $((rows - 1))
check "two busy loops are running ($r)" test "$r" = 2
check "the throttled write is blocked ($b)" test "$b" = 1

# load: the plugin advances it as the kernel does, on a 5 s clock of its own with the kernel's
# fixed-point calc_load (FSHIFT 11, EXP 1884/2014/2037), so between two rows the three averages
# either stay or move by one or more whole kernel steps towards running + blocked (steady here).
paste -d, <(csv_rows "$NAME" ps_state-running) <(csv_rows "$NAME" ps_state-blocked) <(csv_rows "$NAME" load) >"$WORK/load.csv"
read -r bad compared moved < <(awk -F, '
  function step(l, e, a) { n = l * e + a * (2048 - e); if (a >= l) n += 2047; return int(n / 2048) }
  NR > 1 && $1 == $3 && $3 == $5 {
    m++; a = ($2 + $4) * 2048; same = 1; ok = 0
    for (i = 0; i < 3; i++) { q[i] = int($(6 + i) * 2048 + 0.5); if (q[i] != P[i]) same = 0 }
    if (same) ok = 1
    else {
      moved++
      for (i = 0; i < 3; i++) c[i] = P[i]
      for (k = 1; k <= 4 && !ok; k++) {
        hit = 1
        for (i = 0; i < 3; i++) { c[i] = step(c[i], E[i], a); if (c[i] != q[i]) hit = 0 }
        ok = hit
      }
    }
    if (!ok) { print "row " NR ": load " $6 "," $7 "," $8 " is no kernel step from the row before (active " $2 + $4 ")" >"/dev/stderr"; n_bad++ }
  }
  { for (i = 0; i < 3; i++) P[i] = int($(6 + i) * 2048 + 0.5) }
  BEGIN { E[0] = 1884; E[1] = 2014; E[2] = 2037 }
  END { print n_bad + 0, m + 0, moved + 0 }' "$WORK/load.csv" | tail -n 1)
load=$(last_row "$NAME" load)
IDS+=("load = ${load#*,} (whole kernel calc_load steps of running + blocked, every 5 s)")
check "load moves by whole kernel steps towards running + blocked ($bad of $compared rows off, $moved moves)" \
  test "$bad" = 0 -a "$compared" -ge 5 -a "$moved" -ge 1
check "shortterm load rose above 0 (${load#*,})" awk -v l="$(echo "$load" | cut -d, -f2)" 'BEGIN{exit !(l > 0.1)}'
# Lift the throttle: the held write completes and its process can go.
if [ "$VM_LAYOUT" = v2 ]; then echo "$DEV wbps=max" >"$CG/$REL/io.max"; else
  echo "$DEV 0" >"$(kpath blkio "$REL" blkio.throttle.write_bps_device)"; fi
wait "$DD"
finish_with_ids
