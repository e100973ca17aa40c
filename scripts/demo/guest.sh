# The demo, guest side: runs in the lab VM (real Debian kernel + netdevsim),
# with test/lab/guest/lib.sh sourced. Narration goes to stdout; the host
# streams it as it happens. $DEMO_COLOR (always|never) comes from the host.
COLOR=${DEMO_COLOR:-never}
if [ "$COLOR" = always ]; then B=$'\033[1m' D=$'\033[2m' N=$'\033[0m'; else B='' D='' N=''; fi
say() { printf '\n%s== %s%s\n' "$B" "$*" "$N"; }
note() { printf '   %s\n' "$*"; }
run() { printf '%s# %s%s\n' "$D" "$*" "$N"; "$@" 2>&1 | sed 's/^/   /'; }
cli() { offload_cli A "$@"; }

key_guard keys

say "1. Two hosts, charon on each, and a NIC with an IPsec crypto engine"
offload_topology 1 veth
charons_up
offload_config A '  rules:
    - match: "lab/*"
      offload: true
      device: nsim0' > /dev/null
note "host A (netns nsA): 10.0.0.1 on vethA; nsim0 = netdevsim, ESP offload, 33-SA table"
note "host B (netns nsB): 10.0.0.2 on vethB; charon A and B from swanctl/host-{a,b}/swanctl.conf"
note "charon installs every CHILD_SA in software (hw_offload = no); ipsec-offload runs beside"
note "charon A with this config (offload.rules picks nsim0 explicitly):"
sed -n '/^offload:/,$p' "$LAB_TMP/offload/A/config.yaml" | sed 's/^/     /'
offload_start A
run cli status

say "2. charon brings up a CHILD_SA; the daemon moves both SAs onto the NIC"
swanctl_as A --initiate --child gcm --timeout 60 > "$LAB_RUN/logs/initiate.txt" 2>&1 || lab_fail "initiate failed: $(tail -5 "$LAB_RUN/logs/initiate.txt")"
wait_for 60 sa_count_is A offloaded 2 || lab_fail "SAs not offloaded: $(cli sa list)"
run cli sa list
run cli device list
note "the kernel agrees (XFRMA_OFFLOAD_DEV), and so does the NIC's own table:"
ip -n nsA xfrm state | grep -E 'crypto offload' | sed 's/^/     /'
nsim_ipsec 1 0 | grep -v 'key=' | sed 's/^/     /'

say "3. nsim0 goes down and comes back while a ping crosses the tunnel"
ping_start ping nsA 10.0.0.2
sleep 1.5
run ip -n nsA link set nsim0 down
note "the kernel has just deleted both offloaded SAs, with no netlink event; charon still lists the CHILD_SA"
wait_for 30 sa_count_is A software 2 || lab_fail "SAs not back in software: $(cli sa list)"
run cli sa list
sleep 1.5
run ip -n nsA link set nsim0 up
wait_for 60 sa_count_is A offloaded 2 || lab_fail "SAs not offloaded again: $(cli sa list)"
run cli sa list
ping_stop ping
note "ping: $(grep -E 'packets transmitted' "$LAB_RESULTS/ping.txt")"

say "4. An operator pins the CHILD_SA to software, then back onto the NIC"
run cli sa demote lab/gcm
run cli sa promote lab/gcm
run cli sa unpin lab/gcm
capture ping2 ip netns exec nsA ping -n -c 3 -i 0.2 -W 2 10.0.0.2
note "ping after the swaps: $(grep -oE '[0-9]+ packets transmitted, [0-9]+ received' "$LAB_RESULTS/ping2.json")"

say "5. What the log says (ipsec-offload logs --event 'sa.*,device.*')"
cli logs --event 'sa.*,device.*' --color "$COLOR" | sed 's/^/   /'
cli --json sa list > "$LAB_RESULTS/sas.json"
offload_stop A

say "Summary"
key_guard_check
lab_node scripts/demo/summary.ts "$LAB_RUN/logs/offload-A.log" "$LAB_RESULTS/ping.txt" "$LAB_RESULTS/keys.json" | tee "$LAB_RESULTS/summary.txt" | sed 's/^/   /'
