#!/bin/bash
# Layout detection on a real host tree, no fixtures: collectd with the plugin's defaults
# (CgroupRoot /sys/fs/cgroup) says which layout it found and finds containers of both Docker
# cgroup drivers (cgroupfs: docker/<id>, systemd: system.slice/docker-<id>.scope), named from
# the DockerRoot, with values from every controller of this layout.
. "$(dirname "$0")/lib.sh"
require_root

make_workdir
ID1=$(random_id) ID2=$(random_id)
ctr_make "docker/$ID1"
ctr_make "system.slice/docker-$ID2.scope"
fake_docker_name "$ID1" vm_cgroupfs
fake_docker_name "$ID2" vm_systemd
in_ctr "docker/$ID1" sleep 600
in_ctr "system.slice/docker-$ID2.scope" sleep 600
write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\""
start_collectd || { fail "collectd starts"; finish; exit; }
check "rows appear" wait_for_csv vm_systemd count-pids 2 30
wait_for_csv vm_cgroupfs count-pids 2 10
grep -E 'layout under|hierarchy|no cgroup' "$WORK/collectd.log" | sed 's/^/log: /'
if [ "$VM_LAYOUT" = v2 ]; then
  check "the plugin says: cgroup v2 layout" grep -q "cgroup v2 layout under /sys/fs/cgroup\." "$WORK/collectd.log"
  check "and finds the v2 tree (no 'no cgroup v2 tree' line)" test -z "$(grep 'no cgroup v2 tree' "$WORK/collectd.log")"
  want="ps_cputime memory-usage count-pids total_time_in_ms-pressure_cpu_some"
else
  check "the plugin says: cgroup v1 layout" grep -q "cgroup v1 layout under /sys/fs/cgroup\." "$WORK/collectd.log"
  check "every v1 controller it reads is found (no 'no cgroup v1 ... hierarchy' line)" \
    test -z "$(grep 'no cgroup v1 .* hierarchy' "$WORK/collectd.log")"
  want="ps_cputime memory-usage count-pids"
fi
for n in vm_cgroupfs vm_systemd; do
  for id in $want; do check "$n: $id" test -n "$(csv_file "$n" "$id")"; done
  same "$n: count-pids" "$(col "$(last_row "$n" count-pids)" 1)" 1
done
check "no PSI on v1, PSI on v2" test "$([ -n "$(csv_file vm_cgroupfs total_time_in_ms-pressure_cpu_some)" ] && echo v2 || echo v1)" = "$VM_LAYOUT"
stop_collectd
check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
errors_in_log | head -5
finish
