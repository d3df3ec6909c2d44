#!/bin/bash
# Task states and load: a container with two busy loops (R), a sleeper (S) and a direct write held
# up by an I/O throttle of 1 KiB/s on the virtio disk (D, uninterruptible block I/O). The plugin's
# ps_state values are compared with the states /proc/TID/stat gives for the container's threads,
# and its load with the kernel's damping applied to its own running + blocked counts.
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

# load: each row is the previous one damped by exp(-dt/period) towards running + blocked. dt is
# taken from the rows' times, the plugin's from its clock at the task sample, a little later in
# a busy guest: 0.3 s of difference at 4 tasks moves the 1-minute value by 0.02.
paste -d, <(csv_rows "$NAME" ps_state-running) <(csv_rows "$NAME" ps_state-blocked) <(csv_rows "$NAME" load) >"$WORK/load.csv"
read -r bad compared < <(awk -F, 'NR > 1 && $1 == $3 && $3 == $5 {
    m++
    dt = $5 - t; a = $2 + $4
    for (i = 0; i < 3; i++) {
      e = exp(-dt / (i == 0 ? 60 : i == 1 ? 300 : 900))
      want = L[i] * e + a * (1 - e); got = $(6 + i)
      if (got - want > tol || want - got > tol) { print "row " NR " load[" i "]: " got " != " want " (dt " dt ", active " a ")" >"/dev/stderr"; n++ }
    }
  }
  { t = $5; L[0] = $6; L[1] = $7; L[2] = $8 }
  END { print n + 0, m + 0 }' tol=0.025 "$WORK/load.csv" | tail -n 1)
load=$(last_row "$NAME" load)
IDS+=("load = ${load#*,} (the damping of running + blocked over the rows' times)")
check "load follows running + blocked with the kernel's damping ($bad of $compared rows off)" \
  test "$bad" = 0 -a "$compared" -ge 5
check "shortterm load rose above 0 (${load#*,})" awk -v l="$(echo "$load" | cut -d, -f2)" 'BEGIN{exit !(l > 0.1)}'
# Lift the throttle: the held write completes and its process can go.
if [ "$VM_LAYOUT" = v2 ]; then echo "$DEV wbps=max" >"$CG/$REL/io.max"; else
  echo "$DEV 0" >"$(kpath blkio "$REL" blkio.throttle.write_bps_device)"; fi
wait "$DD"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
echo "--- identifiers checked against the kernel's files ($VM_LAYOUT):"
printf '  %s\n' "${IDS[@]}"
finish
