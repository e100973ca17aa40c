# Issue 5 scenario 2: an ESN CHILD_SA on a device without ESN offload stays in
# software with a reason; the tunnel works. (charon alone: EINVAL, CHILD_SA fails.)
offload_topology
charons_up
offload_start A
capture initiate swanctl_as A --initiate --child gcm-esn --timeout 60
wait_for 60 sa_count_is A software 2 || lab_fail "SAs not seen: $(offload_cli A sa list)"
offload_cli A wait
sleep 2
offload_cli A wait
sa_json sas
offload_cli A sa list > "$LAB_RESULTS/sa-list.txt"
offload_cli A --json device list > "$LAB_RESULTS/devices.json"
ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-a.xfrm"
nsim_count_json nsim
capture ping ip netns exec nsA ping -c 5 -i 0.2 -W 2 10.0.0.2
key_snapshot
offload_stop A
key_audit keys
