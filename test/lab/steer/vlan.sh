# Steering on real 802.1Q (the 8021q module exists only in the lab kernel).
#
#   ns w:  wire0 (+ wire0.100, wire0.200, wire0.101)      the far end of the uplink
#   ns h:  up0 (uplink, steer_ingress) p1 p2 (ports)     no addresses, no bridge
#   ns v1: eth0 10.100.0.11, behind p1 = access port of VLAN 100 (anti-spoof M1)
#   ns v2: eth0.200 10.200.0.12, behind p2 = trunk port, entry for VLAN 200
#   ns tr: the BPF_PROG_TEST_RUN table of the host suite, on this kernel
PEER=02:00:00:00:00:0a
M1=02:00:00:00:01:01
M2=02:00:00:00:02:02
G() { lab_node test/lab/steer/guest.ts "$@"; }
# G_result NAME COMMAND JSON — a guest command's JSON as result NAME (result_of);
# a read-only `list` is tried once more after a failure.
G_result() {
  local name=$1; shift
  if [ "$1" = list ]; then result_of --retry "$name" G "$@"; else result_of "$name" G "$@"; fi
}
daemon() { lab_node test/host/steer/daemon-run.ts "$@"; }
vlan() { # NS DEV VID ADDR
  ip -n "$1" link add link "$2" name "$2.$3" type vlan id "$3"
  ip -n "$1" link set "$2.$3" up
  ip -n "$1" addr add "$4" dev "$2.$3"
}

lab_modules
for n in h w v1 v2 tr; do
  netns_add $n
  # IPv6 off: no router solicitations or DAD crossing the hooks and the counters.
  ip netns exec $n sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
ip link add up0 netns h type veth peer name wire0 netns w address $PEER
ip link add p1 netns h type veth peer name eth0 netns v1 address $M1
ip link add p2 netns h type veth peer name eth0 netns v2 address $M2
for x in "h up0" "h p1" "h p2" "w wire0" "v1 eth0" "v2 eth0"; do set -- $x; ip -n $1 link set $2 up; done
vlan w wire0 100 10.100.0.1/24
vlan w wire0 200 10.200.0.1/24
vlan w wire0 101 10.101.0.1/24
ip -n v1 addr add 10.100.0.11/24 dev eth0
vlan v2 eth0 200 10.200.0.12/24
ip -n w neigh add 10.100.0.11 lladdr $M1 dev wire0.100
ip -n w neigh add 10.200.0.12 lladdr $M2 dev wire0.200
ip -n w neigh add 10.101.0.11 lladdr $M1 dev wire0.101
ip -n v1 neigh add 10.100.0.1 lladdr $PEER dev eth0
ip -n v2 neigh add 10.200.0.1 lladdr $PEER dev eth0.200

G xdp-pass '{"devices":[["w","wire0"],["v1","eth0"],["v2","eth0"]]}' > /dev/null
G mount '{"dir":"/tmp/steer-pins"}' > /dev/null
T='"uplink":"up0","netns":"h","pinRoot":"/tmp/steer-pins"'
DESIRED='{"ports":[{"device":"p1","mac":"'$M1'","vlan":100},{"device":"p2","mac":"'$M2'","vlan":0}],"fdb":[{"mac":"'$M1'","vlan":100,"port":"p1"},{"mac":"'$M2'","vlan":200,"port":"p2"}],"esp":[{"vlan":100,"daddr":"10.100.0.11","spi":4096}]}'
DAEMON='{"uplink":"up0","netns":{"name":"h"},"pinRoot":"/tmp/steer-pins","mountBpffs":false,"desired":'$DESIRED'}'

# 1. The daemon starts: attach + reconcile; VLAN RX offload on the uplink.
result start "$(daemon "$DAEMON")"
G_result vlan_offload vlan-offload '{"netns":"h","dev":"up0"}'
capture offload_now ip netns exec h ethtool -k up0

# 2. veth with tx-vlan-offload on (the default) carries the tag out of band:
#    XDP on the receiving end sees an untagged frame.
capture ping_oob ip netns exec w ping -c 3 -i 0.3 -W 1 10.100.0.11
G_result after_oob list "{$T}"

# 3. Tags in the frame: steered by VLAN + MAC, popped toward the access port,
#    kept toward the trunk port, pushed again on the way back.
ip netns exec w ethtool -K wire0 txvlan off
ip netns exec v2 ethtool -K eth0 txvlan off
capture ping100 ip netns exec w ping -c 5 -i 0.3 -W 1 10.100.0.11
capture ping200 ip netns exec w ping -c 5 -i 0.3 -W 1 10.200.0.12
capture ping101 ip netns exec w ping -c 2 -i 0.3 -W 1 10.101.0.11
capture ping_from_v1 ip netns exec v1 ping -c 3 -i 0.3 -W 1 10.100.0.1
G_result after_tagged list "{$T}"

# 4. Egress checks: a spoofed source MAC, then a tagged frame from the access port.
ip -n v1 link set eth0 address 02:00:00:00:01:99
ip -n v1 neigh replace 10.100.0.1 lladdr $PEER dev eth0
capture ping_spoof ip netns exec v1 ping -c 3 -i 0.3 -W 1 10.100.0.1
ip -n v1 link set eth0 address $M1
ip -n v1 neigh replace 10.100.0.1 lladdr $PEER dev eth0
ip netns exec v1 ethtool -K eth0 txvlan off
vlan v1 eth0 200 10.200.0.11/24
ip -n v1 neigh add 10.200.0.1 lladdr $PEER dev eth0.200
capture ping_hop ip netns exec v1 ping -c 3 -i 0.3 -W 1 10.200.0.1
capture ping_after_abuse ip netns exec v1 ping -c 2 -i 0.3 -W 1 10.100.0.1
G_result after_abuse list "{$T}"

# 5. A daemon restart while pings flow: rounds of 50 pings (each waits for
#    its last reply) run back to back for as long as the new daemon runs.
daemon "$DAEMON" > "$LAB_TMP/restart.json" &
DPID=$!
sent=0; got=0; rounds=0
while :; do
  out=$(ip netns exec w ping -q -c 50 -i 0.02 -W 1 10.100.0.11 2>&1 || true)
  s=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\1/p')
  r=$(echo "$out" | sed -n 's/^\([0-9]*\) packets transmitted, \([0-9]*\) received.*/\2/p')
  sent=$((sent + ${s:-0})); got=$((got + ${r:-0})); rounds=$((rounds + 1))
  kill -0 $DPID 2>/dev/null || break
done
wait $DPID
result restart "$(cat "$LAB_TMP/restart.json")"
result flood "{\"sent\":$sent,\"received\":$got,\"rounds\":$rounds}"

# 6. A device without native XDP (an 802.1Q device): generic mode, reported.
ip -n h link add link up0 name up0.300 type vlan id 300
ip -n h link set up0.300 up
G_result generic attach-only '{"uplink":"up0.300","netns":"h","pinRoot":"/tmp/steer-pins"}'
G_result generic_detach detach '{"uplink":"up0.300","netns":"h","pinRoot":"/tmp/steer-pins"}'

# 7. The host suite's BPF_PROG_TEST_RUN table on this kernel's verifier and helpers.
ip link add up0 netns tr type veth peer name wire0 netns tr
ip link add p1 netns tr type veth peer name p1peer netns tr
ip link add p2 netns tr type veth peer name p2peer netns tr
for d in up0 wire0 p1 p1peer p2 p2peer; do ip -n tr link set $d up; done
G mount '{"dir":"/tmp/table-pins"}' > /dev/null
G_result table table '{"uplink":"up0","netns":"tr","pinRoot":"/tmp/table-pins"}'

# 8. steer detach: everything of ours goes, nothing else.
G_result detach detach "{$T}"
capture links_after ip -n h -d link show
