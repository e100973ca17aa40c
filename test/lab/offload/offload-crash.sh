# Issue 5 scenario 8: the daemon is killed mid-swap (after the DELSA, before
# the NEWSA): the SA is gone and so are its keys. The restarted daemon asks
# charon over VICI to rekey the CHILD_SA, and the tunnel recovers.
offload_topology
charons_up
export IPSEC_OFFLOAD_FAULT=after-delsa
offload_start A
unset IPSEC_OFFLOAD_FAULT
swanctl_as A --initiate --child gcm --timeout 60 > "$LAB_RUN/logs/initiate.txt" 2>&1
pid=$(cat "$LAB_TMP/offload/A/pid")
wait_for 60 sh -c "! kill -0 $pid" || lab_fail "the fault point did not fire"
rm -f "$LAB_TMP/offload/A/pid"
result after-kill "{\"states\":$(ip -n nsA xfrm state | grep -c '^src' || true)}"
capture ping-broken ip netns exec nsA ping -c 2 -i 0.2 -W 1 10.0.0.2
key_snapshot
offload_start A
wait_for 120 sa_count_is A offloaded 2 || lab_fail "not recovered: $(offload_cli A sa list)"
offload_cli A wait
sa_json recovered
capture ping ip netns exec nsA ping -c 3 -i 0.2 -W 2 10.0.0.2
capture sas swanctl_as A --list-sas --raw
offload_stop A
key_audit keys
