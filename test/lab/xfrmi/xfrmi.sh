# xfrm interfaces follow the CHILD_SAs (test/lab/xfrmi/xfrmi.test.ts).
# Two charons with if_id_in/out = %unique (swanctl/xfrmi-a, swanctl/xfrmi-b),
# a daemon beside each (in the root netns, working in nsA / nsB), routes
# through the interfaces, a ping between the networks behind the hosts; then a
# rekey, a daemon restart, a foreign interface holding an if_id, a terminate.

# ---- topology: the offload lab (nsim0 on A) plus a network behind each host ----
offload_topology
modprobe dummy 2>/dev/null || true
ip -n nsA link add lan0 type dummy
ip -n nsA addr add 10.1.0.1/24 dev lan0
ip -n nsA addr add 10.1.42.1/24 dev lan0
ip -n nsA link set lan0 up
ip -n nsB link add lan0 type dummy
ip -n nsB addr add 10.2.0.1/24 dev lan0
ip -n nsB addr add 10.2.42.1/24 dev lan0
ip -n nsB link set lan0 up

# Somebody else's xfrm interface with if_id 42, made before any CHILD_SA.
ip -n nsA link add ext42 type xfrm dev vethA if_id 42
ip -n nsA -d -o link show ext42 | result_text ext42-before

charons_up "$LAB_PROJECT/swanctl/xfrmi-a/swanctl.conf" "$LAB_PROJECT/swanctl/xfrmi-b/swanctl.conf"
for side in A B; do
  cat >> "$(offload_config "$side")" <<'EOC'
xfrmi:
  grace: 3s
  mtu: 1400
  routes:
    install: true
EOC
done
offload_start A
offload_start B

# ifindex NS DEV — the interface's index, or nothing
ifindex() { ip -n "$1" -o link show "$2" 2>/dev/null | cut -d: -f1; }
route_via() { ip -n "$1" route show "$2" | grep -q "dev $3 "; }
gone() { ! ip -n "$1" link show "$2" > /dev/null 2>&1; }
# The installed CHILD_SA "net" as charon lists it (swanctl, not node: TCG makes every node start slow).
net_uid() { swanctl_as A --list-sas --child net 2>/dev/null | sed -n 's/^  net: #\([0-9]*\),.*INSTALLED.*/\1/p' | tail -1; }
has_conflict() { offload_cli A --json xfrmi list | grep -q '"foreign-ifid"'; }

# ---- up: interface, routes, ping ----
t0=$(date +%s.%N)
swanctl_as A --initiate --child net --timeout 60 > "$LAB_RUN/logs/initiate-net.txt" 2>&1
t1=$(date +%s.%N)
wait_for 60 route_via nsA 10.2.0.0/24 xfrm1 || lab_fail "no route via xfrm1 in nsA: $(offload_cli A xfrmi list)"
t2=$(date +%s.%N)
wait_for 60 route_via nsB 10.1.0.0/24 xfrm1 || lab_fail "no route via xfrm1 in nsB: $(offload_cli B xfrmi list)"
result timing "{\"initiate\":$(awk "BEGIN{print $t1 - $t0}"),\"routeAfterInitiate\":$(awk "BEGIN{print $t2 - $t1}")}"
offload_cli A wait > /dev/null
offload_cli A --json xfrmi list > "$LAB_RESULTS/list-a-up.json"
offload_cli B --json xfrmi list > "$LAB_RESULTS/list-b-up.json"
offload_cli A xfrmi list > "$LAB_RESULTS/list-a-up.txt"
ip -n nsA -d -o link show xfrm1 | result_text link-a-up
ip -n nsB -d -o link show xfrm1 | result_text link-b-up
ip -n nsA route show | result_text routes-a-up
ip -n nsB route show | result_text routes-b-up
capture root-ns ip link show xfrm1
capture ping ip netns exec nsA ping -c 5 -i 0.2 -W 2 10.2.0.1
ip -n nsA -s -o link show xfrm1 | result_text stats-a
ip -n nsB -s -o link show xfrm1 | result_text stats-b
# SA lines only (no key material): if_id and where each SA lives.
ip -n nsA -s xfrm state | grep -E '^src|if_id|crypto offload' | result_text xfrm-a
offload_cli A --json sa list > "$LAB_RESULTS/sa-a.json"

# ---- rekey: same interfaces, same routes, no link event at all ----
a_before=$(ifindex nsA xfrm1); b_before=$(ifindex nsB xfrm1)
uid_before=$(net_uid)
ip -n nsA monitor link > "$LAB_TMP/monitor-a.txt" 2>&1 & mon_a=$!
ip -n nsB monitor link > "$LAB_TMP/monitor-b.txt" 2>&1 & mon_b=$!
sleep 0.5
swanctl_as A --rekey --child net > "$LAB_RUN/logs/rekey.txt" 2>&1
rekeyed() { u=$(net_uid); [ -n "$u" ] && [ "$u" != "$uid_before" ]; }
wait_for 60 rekeyed || lab_fail "the CHILD_SA was not rekeyed: $(swanctl_as A --list-sas)"
# Past charon's delete_rekeyed_delay (5 s): the old SAs are gone too.
sleep 6
offload_cli A wait > /dev/null
capture ping-rekey ip netns exec nsA ping -c 5 -i 0.2 -W 2 10.2.0.1
kill "$mon_a" "$mon_b"
result_text monitor-a < "$LAB_TMP/monitor-a.txt"
result_text monitor-b < "$LAB_TMP/monitor-b.txt"
ip -n nsA route show | result_text routes-a-rekey
result rekey "{\"a\":[\"$a_before\",\"$(ifindex nsA xfrm1)\"],\"b\":[\"$b_before\",\"$(ifindex nsB xfrm1)\"],\"uid\":[\"$uid_before\",\"$(net_uid)\"]}"
swanctl_as A --list-sas > "$LAB_RUN/logs/sas-after-rekey.txt" 2>&1

# ---- daemon restart: the interface stays, the new daemon adopts it ----
offload_stop A
ip -n nsA -o link show xfrm1 | result_text link-a-stopped
offload_start A
offload_cli A --json xfrmi list > "$LAB_RESULTS/list-a-restart.json"
capture ping-restart ip netns exec nsA ping -c 3 -i 0.2 -W 2 10.2.0.1
result restart "{\"before\":\"$a_before\",\"after\":\"$(ifindex nsA xfrm1)\"}"

# ---- the foreign interface with if_id 42 ----
swanctl_as A --initiate --child fixed --timeout 60 > "$LAB_RUN/logs/initiate-fixed.txt" 2>&1
wait_for 60 has_conflict || lab_fail "no conflict for if_id 42: $(offload_cli A xfrmi list)"
wait_for 60 route_via nsB 10.1.42.0/24 xfrm42 || lab_fail "B did not route if_id 42: $(offload_cli B xfrmi list)"
offload_cli A --json xfrmi list > "$LAB_RESULTS/list-a-foreign.json"
offload_cli A xfrmi list > "$LAB_RESULTS/list-a-foreign.txt"
ip -n nsA -d -o link show ext42 | result_text ext42-after
ip -n nsA route show | result_text routes-a-foreign

# ---- terminate: routes and interfaces go after the grace period ----
swanctl_as A --terminate --child net --timeout 60 > "$LAB_RUN/logs/terminate.txt" 2>&1
t3=$(date +%s.%N)
wait_for 60 gone nsA xfrm1 || lab_fail "xfrm1 still in nsA: $(offload_cli A xfrmi list)"
t4=$(date +%s.%N)
wait_for 60 gone nsB xfrm1 || lab_fail "xfrm1 still in nsB: $(offload_cli B xfrmi list)"
result terminate "{\"removedAfter\":$(awk "BEGIN{print $t4 - $t3}")}"
ip -n nsA route show | result_text routes-a-end
ip -n nsB route show | result_text routes-b-end
offload_cli A --json xfrmi list > "$LAB_RESULTS/list-a-end.json"
ip -n nsA -d -o link show ext42 | result_text ext42-end
ip -n nsB -o link show xfrm42 | result_text b-xfrm42-end
offload_stop A
offload_stop B
