# Lab guest script: offload-cycles under denser traffic, to meet the larval
# ACQUIRE race of src/offload/larval.ts more often than the CI test does
# (two pings every 2 and 3 ms; 150 cycles = 600 swaps by default). Prints the
# swaps, the larval stand-ins removed (sa.larval_removed), any sa.vanished /
# sa.fallback / sa.keys_lost, the steps that did not land where asked and the
# peer's sequence-error counters.
#   LAB_TIMEOUT_MS=1500000 npm run lab:run -- "$(cat scripts/dev/offload-cycles-stress.sh)"
#   LAB_TIMEOUT_MS=1500000 npm run lab:run -- "CYC=300; $(cat scripts/dev/offload-cycles-stress.sh)"
offload_topology
charons_up
offload_start A
swanctl_as A --initiate --child gcm --timeout 60 > /dev/null 2>&1
wait_for 60 sa_count_is A offloaded 2 || lab_fail "not offloaded"
ip netns exec nsA ping -q -i 0.002 10.0.0.2 > "$LAB_RESULTS/ping.txt" 2>&1 &
P=$!
ip netns exec nsA ping -q -i 0.003 10.0.0.2 > "$LAB_RESULTS/ping2.txt" 2>&1 &
P2=$!
lab_node test/lab/offload/cycle.ts "$LAB_TMP/offload/A/control.sock" ${CYC:-150} || echo "cycle.ts failed"
kill -INT $P $P2; wait $P $P2
echo "swaps $(grep -c '"sa.swap"' $LAB_RUN/logs/offload-A.log) larval_removed $(grep -c larval_removed $LAB_RUN/logs/offload-A.log) vanished/fallback $(grep -c 'vanished\|fallback\|keys_lost' $LAB_RUN/logs/offload-A.log) acquires $(grep -c 'received a XFRM_MSG_ACQUIRE' $LAB_RUN/logs/charon-A.log) expire $(grep -c 'XFRM_MSG_EXPIRE' $LAB_RUN/logs/charon-A.log)"
grep larval_removed "$LAB_RUN/logs/offload-A.log" | head -5 || true
node -e 'const c=require(process.env.LAB_RESULTS+"/cycles.json"); const bad=c.steps.filter(s=>s.states.join()!==(s.step.endsWith("software")?"software,software":"offloaded,offloaded")); console.log("bad steps", bad.length, "spis", new Set(c.steps.map(s=>s.spi)).size)'
ip -n nsB -s xfrm state | grep -A0 "replay-window" ; ip netns exec nsB grep -E "SeqError|ProtoError" /proc/net/xfrm_stat
tail -2 "$LAB_RESULTS/ping.txt"
