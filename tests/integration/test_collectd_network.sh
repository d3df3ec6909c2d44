#!/bin/bash
# Network counters from containers' own namespaces, through a real collectd (Interval 1).
#
# The test makes three network namespaces: A and C are each joined to B by a veth pair (addresses
# from 10.231.0.0/16, only ever inside these namespaces). Docker-cgroupfs-layout cgroups, named
# through a fake DockerRoot:
#   net_a     a process in A          net_pod1, net_pod2  one process each, both in C (a "pod")
#   net_b     a process in B          net_host            a sleep in the host's namespace
# It sends an exact number of bytes each way between A and B (UDP datagrams, no ARP, no IPv6) and
# checks what collectd writes (CSV) against them and `ip -s link` in A; that a shared namespace is
# reported once (and taken over when its reporter dies); that a host-namespace container has no
# interface values; that a dead container's namespace is not pinned (it is destroyed: its veth
# leaves B); that every collectd thread stays in the host namespace; that the log has no ERROR
# line; and, with three more daemons, the Interface / IgnoreSelectedInterface / CollectNetwork keys.
# Everything made here is removed on exit. Takes about 20 s.
. "$(dirname "$0")/lib.sh"
require_root
command -v ip >/dev/null 2>&1 || skip "needs iproute2 (ip) to make network namespaces"
require_v1_controllers

DATAGRAMS=1000 DGRAM_SIZE=1400
PAYLOAD=$((DATAGRAMS * (DGRAM_SIZE + 8 + 20 + 14))) # bytes on the wire: + UDP, IPv4, Ethernet
BACK_DATAGRAMS=300 BACK_SIZE=1000 # and from B to A
BACK_PAYLOAD=$((BACK_DATAGRAMS * (BACK_SIZE + 8 + 20 + 14)))
SINK=10.231.0.9 SINK_A=10.231.0.8 # no one's addresses: frames to them are dropped without an answer
NS_A=ctnet_a_$$ NS_B=ctnet_b_$$ NS_C=ctnet_c_$$
NETNS_MADE=()
declare -A EXTRA_PIDS # collectd daemons other than COLLECTD_PID, by work subdirectory
MAIN_WORK=""

net_cleanup() {
  local p
  for p in "${EXTRA_PIDS[@]}"; do COLLECTD_PID=$p stop_collectd; done
  EXTRA_PIDS=()
  WORK=${MAIN_WORK:-$WORK}
  cleanup # lib.sh: collectd, processes, cgroups, work directory
  local ns
  for ns in "${NETNS_MADE[@]}"; do ip netns del "$ns" 2>/dev/null; done
  return 0
}

make_workdir
trap net_cleanup EXIT

# ---- namespaces: A <-> B <-> C ----
for ns in "$NS_A" "$NS_B" "$NS_C"; do
  ip netns add "$ns" || skip "cannot create network namespaces (ip netns add $ns failed)"
  NETNS_MADE+=("$ns")
  # No IPv6 autoconfiguration chatter, and no forwarding (a new namespace inherits the host's
  # IPv4 settings, and dockerd turns forwarding on): then B would route the datagrams meant
  # for the sink and answer with ICMP errors. Only the test's own traffic crosses the veths.
  ip netns exec "$ns" sh -c 'for f in /proc/sys/net/ipv6/conf/all/disable_ipv6 \
    /proc/sys/net/ipv6/conf/default/disable_ipv6; do [ -w $f ] && echo 1 >$f; done
    echo 0 >/proc/sys/net/ipv4/ip_forward; true'
  ip -n "$ns" link set lo up
done
ip link add vethA netns "$NS_A" type veth peer name vethBA netns "$NS_B" ||
  skip "cannot create a veth pair (veth driver missing?)"
ip link add vethC netns "$NS_C" type veth peer name vethBC netns "$NS_B"
ip -n "$NS_A" addr add 10.231.0.1/24 dev vethA
ip -n "$NS_B" addr add 10.231.0.2/24 dev vethBA
ip -n "$NS_C" addr add 10.231.1.1/24 dev vethC
ip -n "$NS_B" addr add 10.231.1.2/24 dev vethBC
ip -n "$NS_A" link set vethA up
ip -n "$NS_B" link set vethBA up
ip -n "$NS_C" link set vethC up
ip -n "$NS_B" link set vethBC up
mac() { ip -n "$1" -br link show "$2" | awk '{print $3}'; }
ip -n "$NS_A" neigh add "$SINK" lladdr "$(mac "$NS_B" vethBA)" dev vethA nud permanent
ip -n "$NS_B" neigh add "$SINK_A" lladdr "$(mac "$NS_A" vethA)" dev vethBA nud permanent

ns_link() { echo "net:[$(stat -L -c %i "/run/netns/$1")]"; }

# ---- containers ----
declare -A CID
for name in net_a net_b net_pod1 net_pod2 net_host; do
  CID[$name]=$(random_id)
  make_cgroup "docker/${CID[$name]}" "${CONTROLLERS[@]}"
  fake_docker_name "${CID[$name]}" "$name"
done
declare -A CPID
# spawn NAME NETNS|-: a sleep inside the container's cgroup, in that namespace (- = the host's).
spawn() {
  if [ "$2" = - ]; then
    sleep 600 &
  else
    ip netns exec "$2" sleep 600 &
  fi
  CPID[$1]=$!
  PIDS_STARTED+=("$!")
  move_pid "$!" "docker/${CID[$1]}" "${CONTROLLERS[@]}"
}
spawn net_a "$NS_A"
spawn net_b "$NS_B"
spawn net_pod1 "$NS_C"
spawn net_pod2 "$NS_C"
spawn net_host -
# ip netns exec enters the namespace before exec'ing sleep: wait until it has.
in_ns() { [ "$(readlink "/proc/$1/ns/net" 2>/dev/null)" = "$2" ]; }
wait_in_ns() { # wait_in_ns PID NSLINK
  local i
  for ((i = 0; i < 50; i++)); do in_ns "$1" "$2" && return 0; sleep 0.1; done
  return 1
}
HOST_NS=$(readlink /proc/self/ns/net)
check "net_a's process is in namespace A" wait_in_ns "${CPID[net_a]}" "$(ns_link "$NS_A")"
check "net_b's process is in namespace B" wait_in_ns "${CPID[net_b]}" "$(ns_link "$NS_B")"
check "net_pod1's process is in namespace C" wait_in_ns "${CPID[net_pod1]}" "$(ns_link "$NS_C")"
check "net_pod2's process is in namespace C" wait_in_ns "${CPID[net_pod2]}" "$(ns_link "$NS_C")"
check "net_host's process is in the host namespace" in_ns "${CPID[net_host]}" "$HOST_NS"

write_config 1 "  DockerRoot \"$WORK/docker\"
  Container \"/^net_/\""
T_START=$(date +%s.%N)
elapsed() { awk -v a="$T_START" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b - a}'; }
start_collectd || { fail "collectd starts"; finish; exit; }

# ip_stats NS DEV: "rx_bytes rx_packets tx_bytes tx_packets" from ip -s link.
ip_stats() {
  ip -n "$1" -s link show "$2" | awk '/RX:/{getline; rb=$1; rp=$2} /TX:/{getline; tb=$1; tp=$2}
    END{print rb, rp, tb, tp}'
}
# first_row_after INSTANCE TYPE-INSTANCE EPOCH: the first CSV row written after EPOCH.
first_row_after() {
  csv_rows "$1" "$2" | awk -F, -v t="$3" '$1 > t {print; exit}'
}
wait_row_after() { # wait_row_after INSTANCE TYPE-INSTANCE EPOCH TIMEOUT_S: prints the row
  local i row
  for ((i = 0; i < $4 * 10; i++)); do
    row=$(first_row_after "$1" "$2" "$3")
    [ -n "$row" ] && { echo "$row"; return 0; }
    sleep 0.1
  done
  return 1
}
between() { awk -v lo="$1" -v v="$2" -v hi="$3" 'BEGIN{exit !(lo <= v && v <= hi)}'; }

check "net_a's if_octets-vethA appears" wait_for_csv net_a if_octets-vethA 2 15
check "net_b's if_octets-vethBA appears" wait_for_csv net_b if_octets-vethBA 2 10
check "net_host's ps_cputime appears (it is read)" wait_for_csv net_host ps_cputime 2 10
check "net_pod1 and net_pod2 are read (ps_cputime)" \
  eval 'wait_for_csv net_pod1 ps_cputime 2 10 && wait_for_csv net_pod2 ps_cputime 2 10'

# ---- 1. known traffic from A to B ----
echo "[$(elapsed) s] known traffic between A and B"
read -r a_rx0 a_rxp0 a_tx0 a_txp0 < <(ip_stats "$NS_A" vethA)
# DATAGRAMS UDP datagrams of DGRAM_SIZE bytes from A to SINK: bash's /dev/udp writes each printf
# as one datagram. SINK is no address of B's; a permanent neighbour entry sends it to vethBA's MAC,
# so no ARP is needed and B drops the frames without an ICMP answer. Exactly the datagrams cross.
send_udp() { # send_udp NS DEST COUNT SIZE
  ip netns exec "$1" bash -c 'chunk=$(head -c "$3" /dev/zero | tr "\0" x)
    exec 3>"/dev/udp/$1/9"
    for ((i = 0; i < $2; i++)); do printf "%s" "$chunk" >&3 || exit 1; done' _ "$2" "$3" "$4"
}
T_SEND=$(date +%s.%N)
check "B sent $BACK_DATAGRAMS datagrams of $BACK_SIZE bytes to A" \
  send_udp "$NS_B" "$SINK_A" "$BACK_DATAGRAMS" "$BACK_SIZE"
check "A sent $DATAGRAMS datagrams of $DGRAM_SIZE bytes to B" \
  send_udp "$NS_A" "$SINK" "$DATAGRAMS" "$DGRAM_SIZE"
T_SENT=$(date +%s.%N)
read -r a_rx1 a_rxp1 a_tx1 a_txp1 < <(ip_stats "$NS_A" vethA)
check "ip -s link in A counts exactly the frames sent: tx +$((a_tx1 - a_tx0)) B/+$((a_txp1 - a_txp0)) pk, rx +$((a_rx1 - a_rx0)) B/+$((a_rxp1 - a_rxp0)) pk" \
  test $((a_tx1 - a_tx0)) -eq "$PAYLOAD" -a $((a_txp1 - a_txp0)) -eq "$DATAGRAMS" \
  -a $((a_rx1 - a_rx0)) -eq "$BACK_PAYLOAD" -a $((a_rxp1 - a_rxp0)) -eq "$BACK_DATAGRAMS"

# The first row of net_a whose tx counts the whole payload, and how long after the send it came.
target=$((a_tx0 + PAYLOAD))
seen_row=""
for ((i = 0; i < 50; i++)); do
  seen_row=$(csv_rows net_a if_octets-vethA | awk -F, -v t="$target" '$3 >= t {print; exit}')
  [ -n "$seen_row" ] && break
  sleep 0.1
done
seen_at=${seen_row%%,*}
latency=$(awk -v a="${seen_at:-0}" -v b="$T_SENT" 'BEGIN{printf "%.2f", a - b}')
echo "sent $PAYLOAD bytes from A to B and $BACK_PAYLOAD from B to A in $(awk -v a="$T_SEND" -v b="$T_SENT" 'BEGIN{printf "%.2f", b - a}') s;" \
  "vethA before: rx $a_rx0 tx $a_tx0; first collectd row counting them: ${seen_row:-none} ($latency s after the send)"
check "the payload shows up in net_a's if_octets-vethA tx" test -n "$seen_row"
check "... within two intervals of the send (${latency} s)" awk -v l="$latency" -v r="$seen_row" \
  'BEGIN{exit !(r != "" && l <= 2.0)}'
IFS=, read -r _ seen_rx seen_tx <<<"$seen_row"
check "collectd's tx delta $((seen_tx - a_tx0)) = the $PAYLOAD bytes A sent" \
  test $((seen_tx - a_tx0)) -eq "$PAYLOAD"
check "collectd's rx delta $((seen_rx - a_rx0)) = the $BACK_PAYLOAD bytes B sent" \
  test $((seen_rx - a_rx0)) -eq "$BACK_PAYLOAD"

# Agreement with ip -s link: a collectd sample taken between two readings lies between them.
read -r r1_rx r1_rxp r1_tx r1_txp < <(ip_stats "$NS_A" vethA)
T1=$(date +%s.%N)
oct_row=$(wait_row_after net_a if_octets-vethA "$T1" 4)
pkt_row=$(wait_row_after net_a if_packets-vethA "$T1" 4)
read -r r2_rx r2_rxp r2_tx r2_txp < <(ip_stats "$NS_A" vethA)
IFS=, read -r _ c_rx c_tx <<<"$oct_row"
IFS=, read -r _ c_rxp c_txp <<<"$pkt_row"
echo "ip -s link in A before: rx $r1_rx B/$r1_rxp pk, tx $r1_tx B/$r1_txp pk; collectd: rx ${c_rx:-?} B/${c_rxp:-?} pk," \
  "tx ${c_tx:-?} B/${c_txp:-?} pk; ip -s link after: rx $r2_rx B/$r2_rxp pk, tx $r2_tx B/$r2_txp pk"
check "if_octets-vethA rx agrees with ip -s link" between "$r1_rx" "${c_rx:--1}" "$r2_rx"
check "if_octets-vethA tx agrees with ip -s link" between "$r1_tx" "${c_tx:--1}" "$r2_tx"
check "if_packets-vethA rx agrees with ip -s link" between "$r1_rxp" "${c_rxp:--1}" "$r2_rxp"
check "if_packets-vethA tx agrees with ip -s link" between "$r1_txp" "${c_txp:--1}" "$r2_txp"
check "if_errors-vethA and if_dropped-vethA are reported" \
  test -n "$(csv_file net_a if_errors-vethA)" -a -n "$(csv_file net_a if_dropped-vethA)"
IFS=, read -r _ b_rx b_tx <<<"$(csv_rows net_b if_octets-vethBA | tail -n 1)"
check "the peer's view: net_b's if_octets-vethBA rx = A's tx, tx = A's rx ($b_rx, $b_tx)" \
  test "${b_rx:--1}" = "$c_tx" -a "${b_tx:--1}" = "$c_rx"
check "lo is not reported by default (net_a, net_b)" \
  test -z "$(csv_file net_a if_octets-lo)$(csv_file net_b if_octets-lo)"
elsewhere=$(cd "$WORK/csv/$TESTHOST" && ls -d */if_*-vethA-* 2>/dev/null | grep -v '^container-net_a/')
check "vethA appears under no other container${elsewhere:+: $elsewhere}" test -z "$elsewhere"
check "net_b reports only B's interfaces" \
  test -z "$(ls "$WORK/csv/$TESTHOST/container-net_b" | grep '^if_' | grep -Ev -- '-vethB[AC]-')"

# ---- 2. a shared namespace is reported once ----
echo "[$(elapsed) s] a shared namespace"
has_pod_if() { test -n "$(csv_file "$1" if_octets-vethC)"; }
owner="" other=""
if has_pod_if net_pod1; then owner=net_pod1 other=net_pod2; fi
if has_pod_if net_pod2; then owner=${owner:+both} owner=${owner:-net_pod2} other=net_pod1; fi
echo "namespace C is reported by: ${owner:-nobody} (ids: net_pod1 ${CID[net_pod1]:0:12}..., net_pod2 ${CID[net_pod2]:0:12}...)"
check "C's interfaces are reported by exactly one of net_pod1/net_pod2" \
  test "$owner" = net_pod1 -o "$owner" = net_pod2
check "... and the other has no if_* values at all" \
  test -z "$(ls "$WORK/csv/$TESTHOST/container-${other:-none}" 2>/dev/null | grep '^if_')"
smallest=net_pod1
[[ "${CID[net_pod2]}" < "${CID[net_pod1]}" ]] && smallest=net_pod2
check "... chosen consistently: the pod member with the smallest id ($smallest)" test "$owner" = "$smallest"

# ---- 3. a container in the host namespace has no interface values ----
echo "[$(elapsed) s] a host-namespace container"
check "net_host has no if_* values" \
  test -z "$(ls "$WORK/csv/$TESTHOST/container-net_host" 2>/dev/null | grep '^if_')"

# ---- 5. every collectd thread stays in the host namespace ----
echo "[$(elapsed) s] thread namespaces"
# The namespace worker spends microseconds inside a container's namespace per read; a thread seen
# outside is looked at again 50 ms later and counts as a failure only if it is still outside.
# threads_ns PID: "DIR LINK" per thread (DIR = /proc/PID/task/TID/ns), one fork per sample.
threads_ns() { find /proc/"$1"/task/*/ns/net -printf '%h %l\n' 2>/dev/null; }
control=$(threads_ns "${CPID[net_b]}" | grep -cvF " $HOST_NS")
check "the sampler sees a process outside the host namespace (net_b's sleep)" test "$control" -ge 1
samples=0 transient=0 stuck="" threads=0
T_END=$(($(date +%s) + 5))
while [ "$(date +%s)" -lt "$T_END" ] || [ "$samples" -lt 20 ]; do
  mapfile -t lines < <(threads_ns "$COLLECTD_PID")
  [ "${#lines[@]}" -gt "$threads" ] && threads=${#lines[@]}
  outside=()
  for l in "${lines[@]}"; do [ "${l#* }" = "$HOST_NS" ] || outside+=("${l%% *}"); done
  if [ ${#outside[@]} -gt 0 ]; then
    sleep 0.05
    for dir in "${outside[@]}"; do
      ns=$(readlink "$dir/net" 2>/dev/null) || continue
      if [ "$ns" = "$HOST_NS" ]; then transient=$((transient + 1)); else stuck+=" ${dir%/ns}:$ns"; fi
    done
  fi
  samples=$((samples + 1))
  sleep 0.05
done
echo "thread namespaces: $samples samples of up to $threads threads, $transient transient sightings outside"
check "all $threads collectd threads sampled" test "$threads" -ge 2
check "every collectd thread is in the host namespace${stuck:+ (outside:$stuck)}" test -z "$stuck"

# ---- 4. a dead container's namespace is not pinned ----
echo "[$(elapsed) s] a dead container's namespace"
A_LINK=$(ns_link "$NS_A")
owner_pid=${CPID[${owner:-net_pod1}]}
{
  kill -9 "${CPID[net_a]}" "$owner_pid"
  wait "${CPID[net_a]}" "$owner_pid"
} 2>/dev/null
ip netns del "$NS_A" # now only a process or an open fd could keep A alive
T_KILL=$(date +%s.%N)
gone_after=""
for ((i = 0; i < 50; i++)); do
  if ! ip -n "$NS_B" link show vethBA >/dev/null 2>&1; then
    gone_after=$(awk -v a="$T_KILL" -v b="$(date +%s.%N)" 'BEGIN{printf "%.2f", b - a}')
    break
  fi
  sleep 0.1
done
echo "namespace A (${A_LINK}) destroyed ${gone_after:-not within 5} s after its last process died"
# Pinned, it would never go; 3 s leaves the kernel's asynchronous cleanup_net() some slack.
check "namespace A is destroyed (vethBA left B) within 3 s" \
  awk -v g="${gone_after:-99}" 'BEGIN{exit !(g <= 3.0)}'
pinning=$(ls -l /proc/"$COLLECTD_PID"/fd/ 2>/dev/null | grep -F "$A_LINK")
check "no collectd fd refers to namespace A" test -z "$pinning"
sleep 2
a_rows_after=$(csv_rows net_a if_octets-vethA | wc -l)
sleep 1.5
a_rows_later=$(csv_rows net_a if_octets-vethA | wc -l)
check "net_a's interface values stop ($a_rows_after -> $a_rows_later rows)" \
  test "$a_rows_after" -eq "$a_rows_later"
check "net_a is still read without a process (ps_cputime rows keep coming)" \
  test -n "$(first_row_after net_a ps_cputime "$(awk -v t="$T_KILL" 'BEGIN{printf "%.3f", t + 1}')")"
# The pod's surviving member takes over its namespace once the reporter is gone (TTL 3 intervals).
check "${other:-the other pod} takes over namespace C after ${owner:-the owner}'s process died" \
  eval 'has_pod_if "${other:-none}" || { sleep 3; has_pod_if "${other:-none}"; }'

# ---- 6. collectd is fine ----
echo "[$(elapsed) s] collectd is fine"
check "collectd is still running" kill -0 "$COLLECTD_PID"
stop_collectd
check "collectd exited cleanly (status ${COLLECTD_STATUS:-?})" test "${COLLECTD_STATUS:-1}" -eq 0
check "no sanitizer report from collectd" \
  test -z "$(grep -E 'Sanitizer|runtime error:' "$WORK/collectd.stdout" 2>/dev/null)"
check "no ERROR lines in collectd's log" test -z "$(errors_in_log)"
errors_in_log | head -5

# ---- 7. the Interface / IgnoreSelectedInterface / CollectNetwork keys (three daemons at once) ----
echo "[$(elapsed) s] config keys"
MAIN_WORK=$WORK
second_daemon() { # second_daemon SUBDIR PLUGIN_LINES: starts another collectd in $MAIN_WORK/SUBDIR
  WORK=$MAIN_WORK/$1
  mkdir -p "$WORK/csv"
  cp -r "$MAIN_WORK/plugins" "$WORK/"
  write_config 1 "  DockerRoot \"$MAIN_WORK/docker\"
  Container \"/^net_/\"
$2"
  start_collectd && EXTRA_PIDS[$1]=$COLLECTD_PID
  COLLECTD_PID=""
}
second_daemon only_lo '  Interface "lo"
  IgnoreSelectedInterface false'
second_daemon no_net '  CollectNetwork false'
second_daemon not_vethBA '  Interface "vethBA"' # IgnoreSelectedInterface defaults to true
WORK=$MAIN_WORK/only_lo
check "Interface \"lo\" + IgnoreSelectedInterface false: net_b reports lo" wait_for_csv net_b if_octets-lo 1 10
check "... and nothing else" test -z "$(ls "$WORK/csv/$TESTHOST/container-net_b" | grep '^if_' | grep -v -- '-lo-')"
WORK=$MAIN_WORK/not_vethBA
check "Interface \"vethBA\" alone: net_b reports everything else, lo included" \
  eval 'wait_for_csv net_b if_octets-vethBC 1 10 && wait_for_csv net_b if_octets-lo 1 5'
check "... but not vethBA" test -z "$(csv_file net_b if_octets-vethBA)"
WORK=$MAIN_WORK/no_net
check "CollectNetwork false: net_b is read" wait_for_csv net_b ps_cputime 2 10
check "... without any if_* value" test -z "$(ls "$WORK/csv/$TESTHOST"/container-* | grep '^if_')"
for d in only_lo not_vethBA no_net; do
  WORK=$MAIN_WORK/$d COLLECTD_PID=${EXTRA_PIDS[$d]:-}
  unset "EXTRA_PIDS[$d]"
  stop_collectd
  check "$d: collectd exited cleanly, no ERROR lines" \
    test "${COLLECTD_STATUS:-1}" -eq 0 -a -z "$(errors_in_log)"
done
WORK=$MAIN_WORK
echo "[$(elapsed) s] done"
finish
