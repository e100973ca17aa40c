# Issue 5 scenario 7: daemon restart -> no SA churn; charon restart -> resync,
# nothing resurrected or lost; charon crash -> its SAs left alone, unmanaged.
offload_topology
charons_up
offload_start A
initiate_offloaded A gcm
offload_cli A wait
sa_json before
nsim_count_json nsim-before
key_snapshot

# 1. Restart the daemon: it adopts what is in the kernel, changes nothing.
offload_stop A
mark=$(wc -l < "$LAB_RUN/logs/offload-A.log")
offload_start A
offload_cli A wait
sleep 4
offload_cli A wait
sa_json after-daemon
nsim_count_json nsim-after-daemon
tail -n +$((mark + 1)) "$LAB_RUN/logs/offload-A.log" > "$LAB_RESULTS/daemon-restart.log"

# 2. Restart charon cleanly: it deletes its SAs; we resurrect nothing.
charon_stop A
sleep 2
result kernel-charon-down "{\"states\":$(ip -n nsA xfrm state | grep -c '^src' || true)}"
charon_start A nsA
swanctl_as A --load-all > /dev/null
wait_for 60 grep -q '"event":"vici.reconnected"' "$LAB_RUN/logs/offload-A.log" || lab_fail "no vici.reconnected"
offload_cli A wait
sleep 2
offload_cli A wait
sa_json after-charon
result kernel-charon-up "{\"states\":$(ip -n nsA xfrm state | grep -c '^src' || true)}"
initiate_offloaded A gcm "not offloaded after charon restart"
sa_json reinitiated
capture ping ip netns exec nsA ping -c 3 -i 0.2 -W 2 10.0.0.2
key_snapshot

# 3. charon crashes (SIGKILL): its SAs stay in the kernel. The daemon stops
#    managing them and deletes nothing (they expire by their lifetimes).
kill -9 "$(cat "$(charon_dir A)/pid")"
sleep 1
charon_start A nsA
swanctl_as A --load-all > /dev/null
wait_for 60 sh -c "[ \$(grep -c '\"event\":\"vici.reconnected\"' $LAB_RUN/logs/offload-A.log) -ge 2 ]" || lab_fail "no second vici.reconnected"
offload_cli A wait
sleep 2
offload_cli A wait
sa_json after-crash
result kernel-after-crash "{\"states\":$(ip -n nsA xfrm state | grep -c '^src' || true)}"
offload_stop A
key_audit keys
