# Guest side of bench/offload-latency.ts: 200 CHILD_SAs come up at once
# (start_action = start); 13 netdevsim ports, 16 CHILD_SAs (32 SAs) each,
# chosen by name rules; child-updown -> verified offload per CHILD_SA.
N=${BENCH_CHILDREN:-200}
PER=16
PORTS=$(( (N + PER - 1) / PER + 1 ))
lab_modules
netns_add nsA; netns_add nsB
veth_link nsA vethA 10.0.0.1/24 nsB vethB 10.0.0.2/24
devs=$(nsim_create 1 $PORTS)
i=0; rules=""
for d in $devs; do
  ip link set "$d" netns nsA; ip -n nsA link set "$d" name "nsim$i"; ip -n nsA link set "nsim$i" up
  [ $i -lt $((PORTS - 1)) ] && rules="$rules    - match: \"bench/g$(printf %02d $i)-*\"\n      offload: true\n      device: nsim$i\n"
  i=$((i + 1))
done
SPARE=$(ip -n nsA -o link show "nsim$((PORTS - 1))" | cut -d: -f1)
# A: one IKE_SA with N children; B: host-b's single child narrows to each.
conf=$LAB_TMP/bench-a.conf
{
  printf 'connections {\n bench {\n  version = 2\n  local_addrs = 10.0.0.1\n  remote_addrs = 10.0.0.2\n  proposals = aes128gcm16-prfsha256-x25519\n'
  printf '  local {\n   auth = psk\n   id = a@lab\n  }\n  remote {\n   auth = psk\n   id = b@lab\n  }\n  children {\n'
  for c in $(seq 1 $N); do
    g=$(( (c - 1) / PER ))
    printf '   g%02d-%03d {\n    mode = transport\n    esp_proposals = aes128gcm16\n    hw_offload = no\n    start_action = start\n    local_ts = 10.0.0.1/32[udp/%d]\n    remote_ts = 10.0.0.2/32[udp/%d]\n   }\n' $g $c $((20000 + c)) $((20000 + c))
  done
  printf '  }\n }\n}\nsecrets {\n ike-lab {\n  id-a = a@lab\n  id-b = b@lab\n  secret = "lab-psk-0123456789abcdef"\n }\n}\n'
} > "$conf"
charon_config A "$conf" "  threads = 32"
charon_config B "$LAB_PROJECT/swanctl/host-b/swanctl.conf" "  threads = 32"
charon_start A nsA
charon_start B nsB
swanctl_as B --load-all > /dev/null
offload_config A "$(printf '  devices:\n%s\n  rules:\n%b' "$(for j in $(seq 0 $((PORTS - 2))); do printf '    nsim%d: {capacity: 33}\n' $j; done)" "$rules")" > /dev/null
offload_start A
lab_node bench/offload-latency-guest.ts listen "$(charon_dir A)/charon.vici" "$LAB_RESULTS/ups.json" "$N" &
LISTEN=$!
wait_for 120 test -s "$LAB_RESULTS/ups.json" || lab_fail "the child-updown listener did not start"
swanctl_as A --load-all > /dev/null
wait $LISTEN
wait_for 600 sa_count_is A offloaded $((N * 2)) || lab_fail "not all offloaded: $(sa_count A offloaded)"
offload_cli A wait
cp "$LAB_RUN/logs/offload-A.log" "$LAB_RESULTS/daemon-log.txt"
lab_node bench/offload-latency-guest.ts raw "$SPARE" "$LAB_RESULTS/raw.json" "$N"
offload_stop A
