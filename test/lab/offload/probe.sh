# Guest side: first contact between the daemon and two real charons.
offload_topology
charons_up
offload_start A
swanctl_as A --initiate --child gcm --timeout 60 > "$LAB_RUN/logs/initiate.txt" 2>&1
offload_cli A wait
sleep 3
offload_cli A wait
offload_cli A sa list
offload_cli A device list
offload_cli A --json sa list > "$LAB_RESULTS/sa-list.json"
ip -n nsA xfrm state
nsim_ipsec 1 0
ip netns exec nsA ping -c 3 -W 2 10.0.0.2
ip -n nsA -s xfrm state | grep -E '^src|offload|packets'
offload_stop A
cat "$LAB_RUN/logs/offload-A.log"
