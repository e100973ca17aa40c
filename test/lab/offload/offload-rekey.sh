# Issue 5 scenario 5: ten rekeys. Each new CHILD_SA is promoted, charon
# deletes the old SAs (the old inbound one after its delete_rekeyed_delay),
# and the device's SA count comes back to 2 every time: no slot leaks.
offload_topology
charons_up
offload_start A
initiate_offloaded A gcm
current() { swanctl_as A --list-sas --raw | grep -o 'gcm-[0-9]* {[^}]*state=INSTALLED' | sed -n 's/gcm-\([0-9]*\) .*/\1/p' | sort -n | tail -1; }
# offloaded_is UNIQUEID — both SAs of that CHILD_SA offloaded
offloaded_is() { [ "$(offload_cli A --json sa list | jq --argjson u "$1" 'map(select(.uniqueid == $u and .state == "offloaded")) | length')" = 2 ]; }
first=$(current)
ip netns exec nsA ping -i 0.2 -W 1 10.0.0.2 > "$LAB_RESULTS/ping.txt" 2>&1 &
PING=$!
: > "$LAB_RESULTS/slots.txt"
prev=$first
for i in $(seq 1 10); do
  swanctl_as A --rekey --child gcm >> "$LAB_RUN/logs/rekey.txt" 2>&1
  for _ in $(seq 1 120); do cur=$(current); [ -n "$cur" ] && [ "$cur" != "$prev" ] && break; sleep 0.5; done
  [ "$cur" != "$prev" ] || lab_fail "rekey $i did not happen"
  wait_for 60 offloaded_is "$cur" || lab_fail "CHILD_SA $cur not promoted: $(offload_cli A sa list)"
  echo "$i promoted $(nsim_sa_count 1 0)" >> "$LAB_RESULTS/slots.txt"
  key_snapshot
  # charon deletes the old inbound SA after delete_rekeyed_delay (5 s)
  wait_for 30 sh -c "[ \"\$(ip -n nsA xfrm state | grep -c '^src')\" = 2 ]" || lab_fail "old SAs of $prev still there after rekey $i"
  offload_cli A wait
  echo "$i settled $(nsim_sa_count 1 0)" >> "$LAB_RESULTS/slots.txt"
  prev=$cur
done
kill -INT $PING; wait $PING || true
sa_json final
nsim_count_json nsim-final
result rekeys "{\"first\":$first,\"last\":$cur}"
result kernel "{\"states\":$(ip -n nsA xfrm state | grep -c '^src')}"
offload_stop A
key_audit keys
