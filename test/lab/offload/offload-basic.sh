# Issue 5 scenario 1: a CHILD_SA comes up in software; the daemon moves both
# SAs onto netdevsim (the device that owns the local address, like charon).
offload_topology
charons_up
offload_start A
initiate_offloaded A gcm
offload_cli A wait
sa_json sas
offload_cli A sa list > "$LAB_RESULTS/sa-list.txt"
offload_cli A device list > "$LAB_RESULTS/device-list.txt"
ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-a.xfrm"
nsim_ipsec 1 0 | grep -v 'key=' | result_text nsim-table
capture ping ip netns exec nsA ping -c 5 -i 0.2 -W 2 10.0.0.2
capture counters sh -c "ip -n nsA -s xfrm state | grep -A1 'lifetime current'"
key_snapshot
offload_stop A
key_audit keys
