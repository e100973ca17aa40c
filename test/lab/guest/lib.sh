# Helpers for lab scenario scripts, sourced by every guest command (bash).
# Conventions: functions print what they created; failures exit non-zero with
# a message on stderr naming what failed. Results for the host go to
# $LAB_RESULTS/<name>.json (read with run.json('<name>') in the test).

LAB_TMP=${LAB_TMP:-/tmp/lab}
mkdir -p "$LAB_TMP"

lab_fail() { echo "lab: $*" >&2; exit 1; }

# result NAME JSON — store a JSON document for the host side of the test.
result() {
  local name=$1 json=$2
  mkdir -p "$LAB_RESULTS/$(dirname "$name")"
  printf '%s\n' "$json" > "$LAB_RESULTS/$name.json"
}

# result_of [--retry] NAME CMD... — CMD's stdout (JSON) as result NAME, its
# stderr kept in logs/NAME.stderr. A failure or an empty output ends the
# scenario with CMD's own error; with --retry (read-only commands only) it is
# tried once more first, and said so in that file.
result_of() {
  local retry=0 name out err
  [ "$1" = --retry ] && { retry=1; shift; }
  name=$1; shift
  err="$LAB_RUN/logs/$name.stderr"
  mkdir -p "$(dirname "$err")"
  if ! out=$("$@" 2>>"$err") || [ -z "$out" ]; then
    [ "$retry" = 1 ] || lab_fail "$name ($*): $(tail -5 "$err")"
    echo "retrying after a failure: $*" >> "$err"
    out=$("$@" 2>>"$err") && [ -n "$out" ] || lab_fail "$name ($*): $(tail -5 "$err")"
  fi
  result "$name" "$out"
}

# result_text NAME < stdin — store free text (logs, command output).
result_text() {
  mkdir -p "$LAB_RESULTS/$(dirname "$1")"
  cat > "$LAB_RESULTS/$1.txt"
}

# capture NAME CMD... — run CMD, store {"rc":N,"out":"..."} as result NAME; never fails.
capture() {
  local name=$1; shift
  local out rc
  out=$("$@" 2>&1) && rc=0 || rc=$?
  # jq, not node: a node start costs about a second under TCG, and scenarios capture dozens of times.
  result "$name" "$(jq -cn --argjson rc "$rc" --arg out "$out" '{rc: $rc, out: $out}')"
  return 0
}

# Kernel modules every scenario may need (autoload would get most of them;
# loading up front keeps timings stable and failures early).
lab_modules() {
  modprobe -a esp4 esp6 esp4_offload esp6_offload xfrm_user xfrm_interface 8021q veth netdevsim \
    || lab_fail "modprobe failed"
}

# nsim_create ID [PORTS] — new netdevsim device; prints its netdev names.
nsim_create() {
  local id=$1 ports=${2:-1} i names
  [ -d /sys/bus/netdevsim ] || modprobe netdevsim || lab_fail "netdevsim module missing"
  echo "$id $ports" > /sys/bus/netdevsim/new_device || lab_fail "netdevsim new_device $id failed"
  for i in $(seq 1 100); do
    names=$(ls /sys/bus/netdevsim/devices/netdevsim$id/net/ 2>/dev/null | wc -l)
    [ "$names" -ge "$ports" ] && break
    sleep 0.05
  done
  ls /sys/bus/netdevsim/devices/netdevsim$id/net/
}

# nsim_port_dev ID PORT — netdev name of a netdevsim port (udev does not run: names are ethN).
# nsim_vf_rep VF — the switchdev representor of SR-IOV VF number VF (phys_port_name
# pf0vfVF) among this netns's devices; fails when there is none. (One netdevsim
# device with VFs per scenario: the name does not say which device.)
nsim_vf_rep() {
  local d
  for d in /sys/class/net/*; do
    [ "$(cat "$d/phys_port_name" 2>/dev/null)" = "pf0vf$1" ] && { basename "$d"; return 0; }
  done
  return 1
}

nsim_port_dev() {
  local id=$1 port=$2 d
  for d in /sys/bus/netdevsim/devices/netdevsim$id/net/*; do
    [ "$(cat "$d/phys_port_name" 2>/dev/null)" = "p$port" ] && { basename "$d"; return 0; }
  done
  # Older netdevsim: ports in creation order.
  ls /sys/bus/netdevsim/devices/netdevsim$id/net/ | sed -n "$((port + 1))p"
}

# nsim_ipsec ID PORT — the device's SA table (debugfs; the file cannot seek: cat it whole).
nsim_ipsec() {
  cat "/sys/kernel/debug/netdevsim/netdevsim$1/ports/${2:-0}/ipsec"
}

# nsim_sa_count ID PORT — number of SAs in the device's table.
nsim_sa_count() {
  nsim_ipsec "$1" "${2:-0}" | sed -n '1s/^SA count=\([0-9]*\).*/\1/p'
}

# netns_add NAME — namespace with lo up.
netns_add() {
  ip netns add "$1" || lab_fail "ip netns add $1"
  ip -n "$1" link set lo up
}

# veth_link NS_A IF_A ADDR_A/PLEN NS_B IF_B ADDR_B/PLEN — a veth between two namespaces, up, addressed.
veth_link() {
  ip link add "$2" netns "$1" type veth peer name "$5" netns "$4" || lab_fail "veth $2<->$5"
  ip -n "$1" addr add "$3" dev "$2"
  ip -n "$4" addr add "$6" dev "$5"
  ip -n "$1" link set "$2" up
  ip -n "$4" link set "$5" up
}

# charon_dir NAME — per-instance directory (config, VICI socket).
charon_dir() { echo "$LAB_TMP/charon/$1"; }

# charon_config NAME SWANCTL_CONF [EXTRA_CHARON_OPTIONS]
# Writes strongswan.conf for one instance: its own VICI socket, a file log
# under $LAB_RUN/logs/, the plugin list from swanctl/strongswan.d/lab.conf.
charon_config() {
  local name=$1 conf=$2 extra=${3:-} d
  d=$(charon_dir "$name")
  mkdir -p "$d/swanctl" "$LAB_RUN/logs"
  (cd "$d/swanctl" && mkdir -p x509 x509ca x509ocsp x509aa x509ac x509crl pubkey private rsa ecdsa bliss pkcs8 pkcs12)
  cp "$conf" "$d/swanctl/swanctl.conf"
  cat > "$d/strongswan.conf" <<EOC
charon {
  filelog {
    lab {
      path = $LAB_RUN/logs/charon-$name.log
      time_format = %T
      flush_line = yes
      default = 1
      knl = 2
      cfg = 2
    }
  }
  plugins {
    vici {
      socket = unix://$d/charon.vici
    }
  }
$extra
}
swanctl {
  socket = unix://$d/charon.vici
}
include $LAB_PROJECT/swanctl/strongswan.d/lab.conf
EOC
}

# charon_start NAME NETNS — start charon in NETNS with a private /run (its
# pidfile path is compiled in); waits until VICI answers.
charon_start() {
  local name=$1 ns=$2 d i
  d=$(charon_dir "$name")
  [ -f "$d/strongswan.conf" ] || lab_fail "charon_config $name first"
  ip netns exec "$ns" sh -c "mount -t tmpfs tmpfs /run && exec env STRONGSWAN_CONF=$d/strongswan.conf /usr/lib/ipsec/charon" \
    > "$LAB_RUN/logs/charon-$name.stdout" 2>&1 &
  echo $! > "$d/pid"
  for i in $(seq 1 200); do
    swanctl_as "$name" --stats > /dev/null 2>&1 && return 0
    sleep 0.05
  done
  lab_fail "charon $name did not answer on VICI"
}

# charon_stop NAME [SIGNAL] — signal charon NAME (default TERM; KILL for a
# crash) and wait until it is gone (10 s at most).
charon_stop() {
  local d pid; d=$(charon_dir "$1")
  [ -f "$d/pid" ] || return 0
  pid=$(cat "$d/pid"); rm -f "$d/pid"
  kill -"${2:-TERM}" "$pid" 2>/dev/null || return 0
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
}

# swanctl_as NAME ARGS... — swanctl against instance NAME.
swanctl_as() {
  local name=$1 d; shift
  d=$(charon_dir "$name")
  STRONGSWAN_CONF=$d/strongswan.conf SWANCTL_DIR=$d/swanctl swanctl "$@"
}

# lab_node FILE.ts ARGS... — run TypeScript from the checkout (tsx).
lab_node() {
  (cd "$LAB_PROJECT" && node --import tsx "$@")
}

# ---- the offload topology and the daemon ------------------------------------
#
#   nsA: nsim0 (netdevsim, 10.0.0.1/32, ESP offload)   vethA 10.0.0.11/24 --+
#   nsB:                                               vethB 10.0.0.2/24  --+
# charon A's IKE/ESP address 10.0.0.1 lives on nsim0, so charon's device rule
# (the device that owns the local address) picks the NIC with the crypto
# engine; packets are routed over the veth (netdevsim has no data path).

# offload_topology [NSIM_ID] [ADDR_ON] — build the above; prints nothing.
# ADDR_ON=veth puts 10.0.0.1 on vethA instead of nsim0 (the daemon then needs
# an explicit `device: nsim0` rule): taking nsim0 down must not take the
# address's local route with it when a test wants traffic to survive.
offload_topology() {
  local id=${1:-1} on=${2:-nsim} dev
  lab_modules
  netns_add nsA
  netns_add nsB
  veth_link nsA vethA 10.0.0.11/24 nsB vethB 10.0.0.2/24
  dev=$(nsim_create "$id" 1)
  ip link set "$dev" netns nsA
  ip -n nsA link set "$dev" name nsim0
  ip -n nsA link set nsim0 up
  if [ "$on" = veth ]; then
    ip -n nsA addr add 10.0.0.1/32 dev vethA
  else
    ip -n nsA addr add 10.0.0.1/32 dev nsim0
  fi
  ip -n nsA route add 10.0.0.2/32 dev vethA src 10.0.0.1
  ip -n nsB route add 10.0.0.1/32 dev vethB
  # No neighbour resolution delays in tests.
  ip -n nsA neigh replace 10.0.0.2 lladdr "$(ip -n nsB -br link show vethB | awk '{print $3}')" dev vethA nud permanent
}

# charons_up [SWANCTL_A] [SWANCTL_B] — charon A in nsA, B in nsB, configs loaded.
charons_up() {
  charon_config A "${1:-$LAB_PROJECT/swanctl/host-a/swanctl.conf}"
  charon_config B "${2:-$LAB_PROJECT/swanctl/host-b/swanctl.conf}"
  charon_start A nsA
  charon_start B nsB
  swanctl_as A --load-all > /dev/null
  swanctl_as B --load-all > /dev/null
}

# offload_config NAME [OFFLOAD_KEYS] — a daemon config for charon NAME in ns<NAME>;
# OFFLOAD_KEYS: extra YAML lines under `offload:` (indented two spaces).
offload_config() {
  local name=$1 d
  d=$LAB_TMP/offload/$name
  mkdir -p "$d"
  cat > "$d/config.yaml" <<EOC
# written by test/lab/guest/lib.sh
netns: ns$name
vici:
  socket: $(charon_dir "$name")/charon.vici
control:
  socket: $d/control.sock
log:
  file: $LAB_RUN/logs/offload-$name.log
offload:
  resync_interval: 2s
${2:-}
EOC
  echo "$d/config.yaml"
}

# sa_count NAME STATE — how many SAs daemon NAME shows in STATE.
sa_count() {
  offload_cli "$1" --json sa list | grep -c "\"state\": \"$2\"" || true
}

# sa_count_is NAME STATE N — succeed when exactly N SAs are in STATE.
sa_count_is() {
  [ "$(sa_count "$1" "$2")" = "$3" ]
}

# initiate_offloaded NAME CHILD [WHAT] — charon NAME initiates CHILD (its
# output appended to logs/initiate.txt); waits until daemon NAME shows both SAs
# offloaded, or fails saying WHAT did not happen, with the list and swanctl's
# last words. A non-zero swanctl alone is not fatal: under TCG it can time out
# while the CHILD_SA still comes up.
initiate_offloaded() {
  local log="$LAB_RUN/logs/initiate.txt"
  swanctl_as "$1" --initiate --child "$2" --timeout 60 >> "$log" 2>&1 || true
  wait_for 60 sa_count_is "$1" offloaded 2 || lab_fail "${3:-SAs not offloaded}: $(offload_cli "$1" sa list); initiate: $(tail -3 "$log")"
}

# offload_start NAME — run the daemon for charon NAME (root netns, sockets in ns<NAME>).
offload_start() {
  local name=$1 d i
  d=$LAB_TMP/offload/$name
  [ -f "$d/config.yaml" ] || offload_config "$name" > /dev/null
  node "$LAB_PROJECT/dist/cli/main.js" daemon --config "$d/config.yaml" > "$LAB_RUN/logs/offload-$name.stderr" 2>&1 &
  echo $! > "$d/pid"
  for i in $(seq 1 300); do
    offload_cli "$name" status > /dev/null 2>&1 && return 0
    kill -0 "$(cat "$d/pid")" 2>/dev/null || { cat "$LAB_RUN/logs/offload-$name.stderr" >&2; lab_fail "daemon $name exited"; }
    sleep 0.1
  done
  lab_fail "daemon $name did not answer on its control socket"
}

offload_stop() {
  local d=$LAB_TMP/offload/$1
  [ -f "$d/pid" ] || return 0
  kill "$(cat "$d/pid")" 2>/dev/null
  for _ in $(seq 1 100); do kill -0 "$(cat "$d/pid")" 2>/dev/null || break; sleep 0.05; done
  rm -f "$d/pid"
}

# offload_cli NAME ARGS... — the CLI against daemon NAME.
offload_cli() {
  local name=$1; shift
  node "$LAB_PROJECT/dist/cli/main.js" --socket "$LAB_TMP/offload/$name/control.sock" "$@"
}

# wait_for SECONDS CMD... — retry CMD until it succeeds or SECONDS of wall
# time pass (a CMD that starts node takes seconds under TCG: count time, not tries).
wait_for() {
  local end=$(( $(date +%s) + $1 )); shift
  while :; do
    "$@" > /dev/null 2>&1 && return 0
    [ "$(date +%s)" -ge "$end" ] && return 1
    sleep 0.2
  done
}

# ---- key hygiene audit ------------------------------------------------------
# key_snapshot — remember the keys of every SA now in the root namespace and
# every named netns (hex, no 0x).
key_snapshot() {
  local ns
  {
    ip xfrm state 2>/dev/null
    for ns in $(ip netns list 2>/dev/null | awk '{print $1}'); do ip -n "$ns" xfrm state 2>/dev/null; done
  } | sed -n 's/.*\(aead\|enc\|auth\|auth-trunc\) [^ ]* 0x\([0-9a-f]*\).*/\2/p' >> "$LAB_TMP/keys.txt"
}

# key_audit NAME — grep every log and result for any remembered key; result NAME = {keys, files, leaks}.
# Files named *.xfrm hold `ip xfrm state` output on purpose and are skipped.
key_audit() {
  key_snapshot
  touch "$LAB_TMP/keys.txt"
  sort -u "$LAB_TMP/keys.txt" -o "$LAB_TMP/keys.txt"
  local files leaks="" k nkeys
  files=$(find "$LAB_RUN/logs" "$LAB_RESULTS" -type f ! -name '*.xfrm' 2>/dev/null | wc -l)
  nkeys=$(grep -c . "$LAB_TMP/keys.txt" || true)
  while read -r k; do
    [ -n "$k" ] || continue
    if grep -rqiF --exclude='*.xfrm' -e "$k" "$LAB_RUN/logs" "$LAB_RESULTS" 2>/dev/null; then leaks="$leaks ${k:0:8}..."; fi
  done < "$LAB_TMP/keys.txt"
  result "$1" "{\"keys\":$nkeys,\"files\":$files,\"leaks\":\"${leaks# }\"}"
}

# sa_json NAME [DAEMON] — `sa list --json` of the daemon (default A) as result NAME.
sa_json() {
  offload_cli "${2:-A}" --json sa list > "$LAB_RESULTS/$1.json"
}

# nsim_count_json NAME [ID] — the netdevsim table's SA count as result NAME.
nsim_count_json() {
  result "$1" "{\"count\":$(nsim_sa_count "${2:-1}" 0)}"
}

# ---- demo ---------------------------------------------------------------------
# Helpers of scripts/demo/guest.sh and test/lab/cli/, usable by any scenario.

# key_guard [NAME] — key hygiene over a whole scenario, in one line at its top:
# samples the keys of every SA in every netns every 0.5 s in the background
# (SAs that come and go between steps are caught too) and, when the script
# exits, successful or not, runs key_audit NAME (default: keys) over every log
# and result file. Assert it with expectNoKeyLeaks(run) from
# test/lab/harness/key-audit.ts. (It owns the EXIT trap.)
key_guard() {
  KEY_GUARD_NAME=${1:-keys}
  key_snapshot
  ( while :; do key_snapshot; sleep 0.5; done ) > /dev/null 2>&1 &
  KEY_GUARD_PID=$!
  trap key_guard_end EXIT
}

key_guard_end() {
  local rc=$?
  set +e
  key_guard_check
  exit "$rc"
}

# key_guard_check — run key_guard's audit now (before a summary that reports
# it); nothing more happens at exit.
key_guard_check() {
  trap - EXIT
  [ -n "${KEY_GUARD_PID:-}" ] || return 0
  kill "$KEY_GUARD_PID" 2> /dev/null || true
  wait "$KEY_GUARD_PID" 2> /dev/null || true
  KEY_GUARD_PID=
  key_snapshot
  key_audit "$KEY_GUARD_NAME"
}

# ping_start NAME NS DST — a ping every 0.1 s in the background until
# ping_stop NAME; its output (statistics included) goes to
# $LAB_RESULTS/NAME.txt. NAME must be a shell identifier.
ping_start() {
  ip netns exec "$2" ping -n -i 0.1 -W 1 "$3" > "$LAB_RESULTS/$1.txt" 2>&1 &
  eval "PING_PID_$1=$!"
}

ping_stop() {
  local pid
  eval "pid=\${PING_PID_$1:-}"
  [ -n "$pid" ] || return 0
  kill -INT "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}

# ---- steer --------------------------------------------------------------------
# Helpers of test/lab/steer-daemon/, usable by any scenario.

# steer_config NAME STEER_KEYS [OFFLOAD_KEYS] — offload_config NAME [OFFLOAD_KEYS]
# plus a `steer:` section; STEER_KEYS: YAML lines under it (indented two spaces).
steer_config() {
  local f
  f=$(offload_config "$1" "${3:-}")
  printf 'steer:\n%s\n' "$2" >> "$f"
  echo "$f"
}

# steer_has_esp NAME SPI — succeed when daemon NAME's `steer list` shows an
# ESP exception for SPI (0x + 8 hex digits, as `ip xfrm state` prints it).
steer_has_esp() {
  offload_cli "$1" --json steer list | grep -q "\"spiHex\": \"$2\""
}

# steer_no_esp NAME — succeed when daemon NAME's `steer list` shows no ESP exception.
steer_no_esp() {
  local out
  out=$(offload_cli "$1" --json steer list) || return 1
  ! printf '%s' "$out" | grep -q '"spiHex"'
}
