#!/bin/bash
# Network counters from a container's own network namespace: a veth pair between the guest's
# namespace and a new one (addresses from 10.231.0.0/24, only inside this guest; no IPv6, no
# ARP), a process of the container in the new namespace, ping traffic from inside it. Every if_*
# value of the container's interface is compared with the kernel's statistics in that namespace.
. "$(dirname "$0")/lib.sh"
require_root
command -v ip >/dev/null || skip "needs iproute2"

NS=vmnet_$$
make_workdir
trap 'cleanup; ip netns del "$NS" 2>/dev/null; ip link del vmv0 2>/dev/null' EXIT
ip netns add "$NS" || skip "cannot create a network namespace"
ip netns exec "$NS" sh -c 'echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6; echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6'
echo 1 >/proc/sys/net/ipv6/conf/all/disable_ipv6
echo 1 >/proc/sys/net/ipv6/conf/default/disable_ipv6
ip link add vmv0 type veth peer name vmv1 netns "$NS" || skip "no veth driver"
ip addr add 10.231.0.1/24 dev vmv0
ip link set vmv0 up
ip -n "$NS" addr add 10.231.0.2/24 dev vmv1
ip -n "$NS" link set vmv1 up
ip -n "$NS" link set lo up
# Permanent neighbour entries: no ARP, whose probes would come seconds after the pings and move
# the counters while they are compared.
ip neigh replace 10.231.0.2 lladdr "$(ip -n "$NS" -br link show vmv1 | awk '{print $3}')" dev vmv0 nud permanent
ip -n "$NS" neigh replace 10.231.0.1 lladdr "$(ip -br link show vmv0 | awk '{print $3}')" dev vmv1 nud permanent

ID=$(random_id)
REL=docker/$ID
NAME=vm_net
ctr_make "$REL"
fake_docker_name "$ID" "$NAME"
write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^vm_/\""
start_collectd || { fail "collectd starts"; finish; exit; }
in_ctr "$REL" ip netns exec "$NS" sleep 600
# Traffic from inside the container's namespace: 20 pings of 1000 bytes.
in_ctr "$REL" ip netns exec "$NS" busybox ping -q -c 20 -i 0.1 -s 1000 10.231.0.1
wait "$LAST_PID"
check "ping from the container's namespace got its answers" test $? = 0
check "if_octets-vmv1 appears" wait_for_csv "$NAME" if_octets-vmv1 1 30
sleep 0.3
check "rows after the traffic" wait_rows "$NAME" if_octets-vmv1 2 20
echo "--- dispatched for $NAME ($VM_LAYOUT):"
dispatched "$NAME" | tr '\n' ' '
echo
# The kernel's counters of vmv1 in its namespace (its own sysfs, as ip netns exec mounts it).
declare -A K
while read -r k v; do K[$k]=$v; done < <(ip netns exec "$NS" sh -c \
  'cd /sys/class/net/vmv1/statistics && for f in *; do echo "$f $(cat $f)"; done')
stat() { echo "${K[$1]}"; }
for t in octets:bytes packets:packets errors:errors dropped:dropped; do
  row=$(last_row "$NAME" "if_${t%%:*}-vmv1")
  same "if_${t%%:*}-vmv1 rx (netns $NS: vmv1 statistics/rx_${t#*:})" "$(col "$row" 1)" "$(stat "rx_${t#*:}")"
  same "if_${t%%:*}-vmv1 tx (netns $NS: vmv1 statistics/tx_${t#*:})" "$(col "$row" 2)" "$(stat "tx_${t#*:}")"
done
# 20 echo requests out and 20 replies in, 1000 + 8 + 20 + 14 bytes each on the wire.
check "exactly the pings were counted (20 packets, 20840 bytes each way)" \
  test "$(last_row "$NAME" if_packets-vmv1 | cut -d, -f2-)" = 20,20 -a \
  "$(last_row "$NAME" if_octets-vmv1 | cut -d, -f2-)" = 20840,20840
check "no value for the namespace's lo (ignored by default)" test -z "$(csv_file "$NAME" if_octets-lo)"
check "no value for the guest's own vmv0" test -z "$(csv_file "$NAME" if_octets-vmv0)"
finish_with_ids
