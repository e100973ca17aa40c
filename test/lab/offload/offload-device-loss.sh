# Issue 5 scenario 4: the offload device goes down while traffic flows. The
# kernel deletes the offloaded SAs without any XFRM event; the daemon notices
# (rtnetlink), reinstalls them in software from the keys it holds, and
# re-promotes them when the device is back. (charon alone: 100 % loss.)
# The SA address sits on the veth and the device is named in the config, so
# taking nsim0 down does not also take the address's route away.
offload_topology 1 veth
charons_up
offload_config A "$(printf '  rules:\n    - match: "*"\n      offload: true\n      device: nsim0')" > /dev/null
offload_start A
initiate_offloaded A gcm
offload_cli A wait
sa_json before
key_snapshot

# 0.1 s pings with timestamps, all through the tunnel, for the whole story.
ip netns exec nsA ping -D -i 0.1 -W 1 10.0.0.2 > "$LAB_RESULTS/ping.txt" 2>&1 &
PING=$!
sleep 3
t_down=$(date +%s.%N)
ip -n nsA link set nsim0 down
wait_for 20 sa_count_is A software 2 || { ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-fail.xfrm"; lab_fail "SAs not back in software: $(offload_cli A sa list)"; }
t_soft=$(date +%s.%N)
sa_json down
ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-down.xfrm"
sleep 3
t_up=$(date +%s.%N)
ip -n nsA link set nsim0 up
wait_for 60 sa_count_is A offloaded 2 || lab_fail "SAs not re-promoted: $(offload_cli A sa list)"
t_off=$(date +%s.%N)
sleep 3
kill -INT $PING; wait $PING || true
sa_json after
nsim_count_json nsim
result times "{\"down\":$t_down,\"software\":$t_soft,\"up\":$t_up,\"offloaded\":$t_off}"
offload_stop A
key_audit keys
