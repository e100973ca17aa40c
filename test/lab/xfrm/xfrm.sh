# Guest side of xfrm.test.ts (runs in the lab VM; lib.sh is sourced).
lab_modules
DEV=$(nsim_create 1 1)
ip link set "$DEV" up
ip addr add 10.0.0.1/24 dev "$DEV"
# netdevsim drops what it sends: a permanent neighbour lets packets reach it (and its tx counter)
ip neigh add 10.0.0.2 lladdr 02:00:00:00:00:02 dev "$DEV" nud permanent
# a veth to a peer namespace: a device without offload ops
netns_add peer
ip link add vA type veth peer name vB
ip link set vB netns peer
ip addr add 10.9.0.1/24 dev vA
ip link set vA up
ip -n peer addr add 10.9.0.2/24 dev vB
ip -n peer link set vB up
lab_node test/lab/xfrm/guest-xfrm.ts "$DEV" vA
# iproute2 as a witness of the state the client left, and the device's table
capture states_after ip xfrm state
nsim_ipsec 1 0 | result_text nsim_table
