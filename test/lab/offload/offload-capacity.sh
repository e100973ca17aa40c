# Issue 5 scenario 3: 20 CHILD_SAs (40 SAs) for a 33-slot device. All 20 come
# up in charon; the device's table fills (whole pairs first); the rest stay in
# software; terminating some lets others into the freed slots.
# (charon alone with hw_offload=yes: the 17th CHILD_SA fails, charon sends DELETE.)
offload_topology
charons_up "$LAB_PROJECT/swanctl/many-a/swanctl.conf" "$LAB_PROJECT/swanctl/many-b/swanctl.conf"
offload_start A
for i in $(seq 1 20); do
  swanctl_as A --initiate --child udp$i --timeout 60 >> "$LAB_RUN/logs/initiate.txt" 2>&1 || lab_fail "initiate udp$i failed"
done
wait_for 120 sa_count_is A offloaded 33 || lab_fail "table not filled: $(offload_cli A sa list)"
offload_cli A wait
sleep 2
offload_cli A wait
sa_json full
nsim_count_json nsim-full
capture installed sh -c "swanctl_as A --list-sas --raw | grep -o 'state=INSTALLED' | wc -l"
result charon "{\"installed\":$(swanctl_as A --list-sas | grep -c 'INSTALLED, TRANSPORT')}"
offload_cli A --json device list > "$LAB_RESULTS/devices.json"
key_snapshot
# Free four slots: terminate two CHILD_SAs that are offloaded.
for c in udp1 udp2; do swanctl_as A --terminate --child $c --timeout 30 >> "$LAB_RUN/logs/terminate.txt" 2>&1; done
wait_for 60 sa_count_is A software 3 || lab_fail "freed slots not taken: $(offload_cli A sa list)"
offload_cli A wait
sa_json freed
nsim_count_json nsim-freed
offload_stop A
key_audit keys
