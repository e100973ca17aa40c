# Steering in the running daemon on an 802.1Q uplink, driven through the CLI.
#
#   nsB: vethB.100 10.0.0.2 (charon B) --- VLAN 100 on the wire --- vethA (uplink, steer_ingress)
#   nsA: vethA.100 10.0.0.11, nsim0 10.0.0.1 (charon A), p1 = access port of VLAN 100
#   g1:  eth0 10.0.0.21 behind p1 (MAC G1), untagged
# nsA has no bridge: a frame gets from the wire to g1 (and back) only through XDP.
A_MAC=02:00:00:00:0a:01
G1=02:00:00:00:01:01
offload_topology
B_MAC=$(ip -n nsB -br link show vethB | awk '{print $3}')
ip -n nsA link set vethA address $A_MAC
ip -n nsA addr del 10.0.0.11/24 dev vethA
ip -n nsB addr del 10.0.0.2/24 dev vethB
ip -n nsA link add link vethA name vethA.100 type vlan id 100
ip -n nsB link add link vethB name vethB.100 type vlan id 100
ip -n nsA addr add 10.0.0.11/24 dev vethA.100
ip -n nsB addr add 10.0.0.2/24 dev vethB.100
ip -n nsA link set vethA.100 up
ip -n nsB link set vethB.100 up
ip -n nsA route replace 10.0.0.2/32 dev vethA.100 src 10.0.0.1
ip -n nsB route replace 10.0.0.1/32 dev vethB.100
ip -n nsA neigh replace 10.0.0.2 lladdr "$B_MAC" dev vethA.100 nud permanent
for ip in 10.0.0.1 10.0.0.11; do ip -n nsB neigh replace $ip lladdr $A_MAC dev vethB.100 nud permanent; done
# veth's tx-vlan-offload would carry B's tags out of band, where XDP on vethA cannot see them.
ip netns exec nsB ethtool -K vethB txvlan off
netns_add g1
ip link add p1 netns nsA type veth peer name eth0 netns g1 address $G1
ip -n nsA link set p1 up
ip -n g1 link set eth0 up
ip -n g1 addr add 10.0.0.21/24 dev eth0
ip -n nsB neigh replace 10.0.0.21 lladdr $G1 dev vethB.100 nud permanent
ip -n g1 neigh replace 10.0.0.2 lladdr "$B_MAC" dev eth0 nud permanent
# veth transmits redirected frames only when the receiving peer runs XDP.
lab_node test/lab/steer/guest.ts xdp-pass '{"devices":[["nsB","vethB"],["g1","eth0"]]}' > /dev/null
result macs "{\"a\":\"$A_MAC\",\"b\":\"$B_MAC\",\"g1\":\"$G1\"}"

charons_up
steer_config A "  uplinks:
    - device: vethA
      rx_vlan_offload: disable
      ports:
        - { device: p1, mac: \"$G1\", vlan: 100 }
      fdb:
        - { mac: \"$G1\", vlan: 100, port: p1 }" "  default: false" > /dev/null
cp "$LAB_TMP/offload/A/config.yaml" "$LAB_RESULTS/config.yaml.txt"
offload_start A

# 1. Attached at start; VLAN RX offload turned off; tagged traffic steered to the guest.
result_of status_start offload_cli A --json steer status
capture ethtool_a ip netns exec nsA ethtool -k vethA
capture ping_guest ip netns exec nsB ping -c 3 -i 0.2 -W 2 10.0.0.21
result_of list_guest offload_cli A --json steer list vethA

# 2. A CHILD_SA comes up: an exception for its inbound SA on VLAN 100 appears.
swanctl_as A --initiate --child gcm --timeout 60 > "$LAB_RUN/logs/initiate.txt" 2>&1
ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-a.xfrm"
SPI_IN=$(ip -n nsA xfrm state | awk '/^src 10.0.0.2 dst 10.0.0.1$/ { getline; print $4; exit }')
result spi "{\"in\":\"$SPI_IN\"}"
wait_for 90 steer_has_esp A "$SPI_IN" || lab_fail "no ESP exception for $SPI_IN: $(offload_cli A steer list)"
result_of list_esp offload_cli A --json steer list vethA

# 3. This host's own MAC on VLAN 100 steered to p1 (steer add): plain traffic to it
#    goes to the guest, the SA's ESP still reaches the kernel (the exception).
capture add_own offload_cli A --json steer add $A_MAC --vlan 100 --port p1
capture ping_tunnel ip netns exec nsA ping -c 5 -i 0.2 -W 2 10.0.0.2
capture ping_plain ip netns exec nsB ping -c 3 -i 0.2 -W 1 10.0.0.11
result_of list_own offload_cli A --json steer list vethA
capture status_text offload_cli A steer status
capture list_text offload_cli A steer list
capture del_own offload_cli A --json steer del $A_MAC --vlan 100

# 4. A restart keeps the programs attached and the entries (and the exception).
offload_stop A
capture xdp_stopped ip -n nsA -d link show vethA
capture ping_guest_stopped ip netns exec nsB ping -c 3 -i 0.2 -W 2 10.0.0.21
offload_start A
result_of status_restart offload_cli A --json steer status vethA
result_of list_restart offload_cli A --json steer list vethA

# 5. The CHILD_SA goes: so does its exception.
swanctl_as A --terminate --ike lab --timeout 60 > "$LAB_RUN/logs/terminate.txt" 2>&1
wait_for 90 steer_no_esp A || lab_fail "ESP exception still there: $(offload_cli A steer list)"
result_of list_after offload_cli A --json steer list vethA

# 6. steer detach removes everything it created.
result_of detach offload_cli A --json steer detach vethA
capture links_after ip -n nsA -d link show
capture pins_after ls -A /sys/fs/bpf/ipsec-offload
capture ping_guest_after ip netns exec nsB ping -c 2 -i 0.2 -W 1 10.0.0.21
result_of status_detached offload_cli A --json steer status
offload_stop A
