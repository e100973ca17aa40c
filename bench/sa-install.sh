# Guest side of bench/sa-install.ts: runs in one lab VM (lib.sh sourced,
# set -euo pipefail, cwd = the checkout). Installs the same BENCH_N SAs three
# ways (plus a reference), BENCH_ROUNDS times each, every run into its own
# fresh netns:
#   ip      — `ip -n NS -batch FILE` of `xfrm state add` lines (process wall clock)
#   c-loop  — BENCH_CLOOP (bench/c/sa-install-loop.c): one NEWSA per sendmsg + ack
#   ours    — XfrmClient.addStates (bench/sa-install-guest.ts; BENCH_OURS is its
#             tsc output, or empty to run the TypeScript through lab_node/tsx):
#             the first call in a fresh node process, and (ours-warm) a second
#             call in the same process into another fresh netns
#   c-batch — reference: BENCH_CLOOP with 256 NEWSA per sendmsg
#   ours-raw — diagnostic: our requestBatch of NEWSA messages encoded before
#             the clock starts (the socket layer without the XFRM codec)
# Per run: $LAB_RESULTS/runs/R-METHOD.json = {method, netns, round, n, ns,
# count, failed, digest}; count is the kernel's SADINFO count after the run, digest
# (first round only) a hash of the sorted one-line `ip xfrm state` listing, so
# the host can check that every method installed exactly the same SAs.
: "${BENCH_N:?}" "${BENCH_ROUNDS:?}" "${BENCH_LAYOUT:?}" "${BENCH_CLOOP:?}" "${BENCH_OURS?}" "${BENCH_PROFILE:=0}"

# Our installer: the compiled JavaScript, or the TypeScript through tsx.
ours() { if [ -n "$BENCH_OURS" ]; then node "$BENCH_OURS" "$@"; else lab_node bench/sa-install-guest.ts "$@"; fi; }

say() { echo "[${EPOCHREALTIME}] $*"; }
say "start"
lab_modules
data=$LAB_TMP/sa-install
mkdir -p "$data"
ours prepare "$BENCH_N" "$BENCH_LAYOUT" "$data"
[ "$(wc -l < "$data/ip.batch")" -eq "$BENCH_N" ] || lab_fail "prepare wrote the wrong number of SAs"

# Microseconds, without forking (bash 5 builtin variable).
now_us() { local t=$EPOCHREALTIME; echo "${t/./}"; }

sad_count() { ip -n "$1" xfrm state count | sed -n 's/.*SAD count \([0-9]*\).*/\1/p'; }

# Keys are in the listing: only its hash leaves this function.
sad_digest() { ip -o -n "$1" xfrm state | sort | sha256sum | cut -c1-16; }

# Empty the netns and let the deferred work (state GC: synchronize_rcu, then
# the crypto transforms are freed) finish before the next timed run. The
# empty namespaces are deleted at the end, so no netns teardown runs
# alongside a measurement either.
settle() {
  ip -n "$1" xfrm state flush
  [ "$(sad_count "$1")" -eq 0 ] || lab_fail "flush left SAs in $1"
  sleep 2
}

say "prepared"
# Warm-up, untimed: the first GCM SA loads the AEAD templates and runs the
# crypto self-tests; page in ip, the C program and node.
netns_add sai-warm
head -n 50 "$data/ip.batch" > "$data/warm.batch"
head -n 50 "$data/sas.spec" > "$data/warm.spec"
ip -n sai-warm -batch "$data/warm.batch"
settle sai-warm
ip netns exec sai-warm "$BENCH_CLOOP" "$data/warm.spec" > /dev/null
settle sai-warm
ip netns exec sai-warm "$BENCH_CLOOP" "$data/warm.spec" 16 > /dev/null
settle sai-warm
netns_add sai-warm2
ours install 50 "$BENCH_LAYOUT" sai-warm sai-warm2 > /dev/null
settle sai-warm
settle sai-warm2
say "warmed up"

# The cost of starting ip itself (fork/exec, netns switch, one GETSADINFO):
# part of the ip rows, recorded so the report can say how much.
printf 'xfrm state count\n' > "$data/one.batch"
starts=()
for i in 1 2 3 4 5; do
  t0=$(now_us); ip -n sai-warm -batch "$data/one.batch" > /dev/null; t1=$(now_us)
  starts+=($(( (t1 - t0) * 1000 )))
done
result ip-startup "{\"ns\":[$(IFS=,; echo "${starts[*]}")]}"

run_ip() {
  local t0 t1
  t0=$(now_us)
  ip -n "$1" -batch "$data/ip.batch" || return 1
  t1=$(now_us)
  echo "{\"method\":\"ip\",\"n\":$BENCH_N,\"ns\":$(( (t1 - t0) * 1000 ))}"
}
run_c_loop() { ip netns exec "$1" "$BENCH_CLOOP" "$data/sas.spec"; }
run_c_batch() { ip netns exec "$1" "$BENCH_CLOOP" "$data/sas.spec" 256; }
# Two timed runs in one node process: cold into $1, warm into $1-warm.
run_ours() {
  local prof=()
  if [ "$BENCH_PROFILE" = 1 ]; then prof=("$LAB_RUN/profiles/$1"); mkdir -p "${prof[0]}"; fi
  netns_add "$1-warm"
  ours install "$BENCH_N" "$BENCH_LAYOUT" "$1" "$1-warm" "${prof[@]}"
}
run_ours_raw() { ours install-raw "$BENCH_N" "$BENCH_LAYOUT" "$1"; }

# record ROUND NETNS JSON — the installer's own report plus what the kernel
# holds afterwards (SADINFO count; in round 1 the SAD digest), then empty it.
record() {
  local round=$1 ns=$2 out=$3 count digest=null
  count=$(sad_count "$ns")
  [ "$round" -eq 1 ] && digest="\"$(sad_digest "$ns")\""
  result "runs/$round-$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).method)' "$out")" "$(node -e '
    const r = JSON.parse(process.argv[1]);
    process.stdout.write(JSON.stringify({ ...r, netns: process.argv[2], round: Number(process.argv[3]), count: Number(process.argv[4]), digest: JSON.parse(process.argv[5]) }));
  ' "$out" "$ns" "$round" "$count" "$digest")"
  say "round $round: $out count=$count"
  settle "$ns"
}

methods=(ip c-loop ours c-batch ours-raw)
mkdir -p "$LAB_RESULTS/runs"
for round in $(seq 1 "$BENCH_ROUNDS"); do
  # Rotate the order each round so drift and leftovers hit every method alike.
  for k in "${!methods[@]}"; do
    m=${methods[$(( (round - 1 + k) % ${#methods[@]} ))]}
    ns=sai-$round-$m
    netns_add "$ns"
    out=$("run_${m//-/_}" "$ns") || lab_fail "$m failed in round $round: $out"
    # One JSON line per timed run; a line may name its own netns.
    while IFS= read -r line; do
      [ -n "$line" ] || continue
      record "$round" "$(node -e 'process.stdout.write(JSON.parse(process.argv[1]).netns ?? process.argv[2])' "$line" "$ns")" "$line"
    done <<< "$out"
  done
done

for ns in $(ip netns list | awk '/^sai-/ {print $1}'); do ip netns del "$ns"; done
