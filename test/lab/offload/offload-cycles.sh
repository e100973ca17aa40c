# Issue 5 scenario 6: 50 promote/demote cycles with traffic flowing. The peer
# must record zero replay and integrity errors, and the outbound sequence
# number must never go backwards (a reused sequence number is a reused GCM IV).
offload_topology
charons_up
offload_start A
initiate_offloaded A gcm
key_snapshot
# Dense traffic: more packets land in swap gaps, where the larval-state race of offload/larval.ts lives.
ip netns exec nsA ping -q -i 0.002 -W 1 10.0.0.2 > "$LAB_RESULTS/ping.txt" 2>&1 &
PING=$!
lab_node test/lab/offload/cycle.ts "$LAB_TMP/offload/A/control.sock" 50
sleep 1
kill -INT $PING; wait $PING || true
sa_json final
for ns in nsA nsB; do
  ip -n $ns -s xfrm state > "$LAB_RESULTS/stats-$ns.xfrm"
  ip netns exec $ns cat /proc/net/xfrm_stat > "$LAB_RESULTS/xfrm_stat-$ns.txt"
done
offload_stop A
key_audit keys
