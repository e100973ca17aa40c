# Issue 9 lab scenario: the per-VF proxy through the PF, in ONE boot.
#
#   nsT0 (tenant t0: charon, policies = no, agent role vf)  t0 192.168.10.2, lo 10.10.0.2
#        |  veth h0 192.168.10.1                                  \
#   nsT1 (tenant t1: same)                                   t1 192.168.11.2, lo 10.11.0.2
#        |  veth h1 192.168.11.1                                   |  mailbox: t0 unix socket
#   nsH  host: PF daemon (role pf), charon H (no connections, VICI only),   (identity = peer netns),
#                                                            t1 TCP + mutual TLS (client certificate)
#        nsim0 = netdevsim PF with 3 SR-IOV VFs (MAC, VLAN, trust set with ip link ... vf N),
#                switchdev mode: VF representors rep0..rep2 (the steering ports)
#        vf-t0 / vf-t1 (xfrm interfaces made by the PF daemon, if_id 100 / 101)
#        br0 172.16.0.1 = nsim0 + hR: XDP steering on the uplink nsim0 (fdb from the VFs'
#        |  veth hR        MAC + VLAN, ESP exceptions from the VFs' SAs)
#   nsR  remote charon, 172.16.0.2, lo 10.20.0.1 (children to both tenants)
#   nsX  a malicious tenant (VF t2, if_id 102): a scripted peer, no charon
#
# ESP to a tenant address is delivered locally on the host (ip rule ipproto
# esp -> a `local` route), so the host terminates the tenants' IPsec: the
# tenants' charons negotiate, their kernels hold SAs but enforce nothing, and
# the PF daemon installs the same SAs on the host with the VF's if_id (and
# offloads them onto nsim0 within each VF's hardware quota). Plain traffic
# from a tenant reaches its xfrm interface through the routes the PF daemon
# puts in the VF's table (route_table, chosen by `ip rule iif`).
#
# Steering: the PF daemon steers on nsim0, its fdb entries come from the VFs'
# MAC + VLAN as set on the PF (-> the VFs' switchdev representors), its ESP
# exceptions from the VFs' inbound SAs. netdevsim has no data path, so the
# remote's traffic comes in on hR, bridged with nsim0: the route back to the
# remote is br0, the uplink's master, which is what puts an SA's exception
# on nsim0 (VLAN 0), as on a host whose PF is a bridge port. Every cleanup
# trigger is checked in the pinned maps with bpftool (not the daemon's word).
#
# The binary is $VF_CLI (default: the checkout's dist/cli/main.js).
VF_CLI=${VF_CLI:-$LAB_PROJECT/dist/cli/main.js}
[ -f "$VF_CLI" ] || lab_fail "no CLI at $VF_CLI (npm run build)"
T_START=$(date +%s)
VFD=$LAB_TMP/vf
mkdir -p "$VFD" "$LAB_RUN/logs"
PF_LOG=$LAB_RUN/logs/pf.log
key_guard

mark() { echo "$(( $(date +%s) - T_START ))"; }
TIMES=""
stamp() { TIMES="$TIMES\"$1\":$(mark),"; }

# ---- topology -----------------------------------------------------------------
lab_modules
for ns in nsH nsR nsT0 nsT1 nsX; do netns_add $ns; done
ip netns exec nsH sysctl -qw net.ipv4.ip_forward=1 net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 net.ipv4.conf.all.accept_local=1
veth_link nsH hR 172.16.0.1/24 nsR r0 172.16.0.2/24
veth_link nsH h0 192.168.10.1/24 nsT0 t0 192.168.10.2/24
veth_link nsH h1 192.168.11.1/24 nsT1 t1 192.168.11.2/24
ip -n nsR addr add 10.20.0.1/32 dev lo
ip -n nsT0 addr add 10.10.0.2/32 dev lo
ip -n nsT1 addr add 10.11.0.2/32 dev lo
ip -n nsR route add default via 172.16.0.1
ip -n nsT0 route add default via 192.168.10.1
ip -n nsT1 route add default via 192.168.11.1
ip -n nsH route add 10.10.0.0/24 via 192.168.10.2 dev h0
ip -n nsH route add 10.11.0.0/24 via 192.168.11.2 dev h1
# ESP to a tenant address ends on the host; IKE (UDP) still goes to the tenant.
# The host's SAs have the tenant's address as their outer source, and the
# kernel builds an outbound bundle only from a local source address
# (__ip_dev_find: an address or a `local` route in table local): so the tenant
# addresses are local routes in table local, and the `lookup local` rule moves
# below rules that send everything but ESP for them to main (forwarded).
ip -n nsH rule del pref 0 lookup local
ip -n nsH rule add pref 1000 lookup local
for a in 192.168.10.2 192.168.11.2 192.168.12.2; do
  ip -n nsH route add local $a/32 dev lo table local
  ip -n nsH rule add pref 100 to $a ipproto 50 lookup local
  ip -n nsH rule add pref 120 to $a lookup main
done
# A tenant's plain traffic goes through its VF table (routes made by the PF daemon).
ip -n nsH rule add pref 110 iif h0 lookup 100
ip -n nsH rule add pref 111 iif h1 lookup 101

PF_DEV=$(nsim_create 1 1)
echo 3 > /sys/bus/netdevsim/devices/netdevsim1/sriov_numvfs
# switchdev: one representor per VF, made in the devlink instance's netns (this one)
devlink dev eswitch set netdevsim/netdevsim1 mode switchdev
for v in 0 1 2; do
  rep=$(nsim_vf_rep $v) || lab_fail "no representor of VF $v"
  ip link set "$rep" netns nsH name rep$v
  ip -n nsH link set rep$v up
done
ip link set "$PF_DEV" netns nsH
ip -n nsH link set "$PF_DEV" name nsim0
ip -n nsH link set nsim0 up
ip -n nsH link add br0 type bridge
ip -n nsH addr del 172.16.0.1/24 dev hR
ip -n nsH link set hR master br0
ip -n nsH link set nsim0 master br0
ip -n nsH addr add 172.16.0.1/24 dev br0
ip -n nsH link set br0 up
ip -n nsH link set nsim0 vf 0 mac 02:00:00:00:0a:00 vlan 100 trust on
ip -n nsH link set nsim0 vf 1 mac 02:00:00:00:0a:01 vlan 101 trust on
ip -n nsH link set nsim0 vf 2 mac 02:00:00:00:0a:02 vlan 102
capture vfinfo_start ip -n nsH -d link show nsim0

# ---- charons --------------------------------------------------------------------
SECRET='"lab-vf-psk-0123456789abcdef"'
tenant_conf() { # NAME ADDR SUBNET
  cat <<EOC
connections {
  $1 {
    version = 2
    local_addrs = $2
    remote_addrs = 172.16.0.2
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = $1@lab
    }
    remote {
      auth = psk
      id = r@lab
    }
    children {
      net {
        mode = tunnel
        local_ts = $3
        remote_ts = 10.20.0.0/24
        esp_proposals = aes128gcm16
        policies = no
        start_action = none
      }
    }
  }
}
secrets {
  ike-$1 {
    id-a = $1@lab
    id-b = r@lab
    secret = $SECRET
  }
}
EOC
}
remote_conn() { # NAME ADDR SUBNET
  cat <<EOC
  $1 {
    version = 2
    local_addrs = 172.16.0.2
    remote_addrs = $2
    unique = replace
    proposals = aes128gcm16-prfsha256-x25519
    local {
      auth = psk
      id = r@lab
    }
    remote {
      auth = psk
      id = $1@lab
    }
    children {
      net {
        mode = tunnel
        local_ts = 10.20.0.0/24
        remote_ts = $3
        esp_proposals = aes128gcm16
        start_action = none
      }
    }
  }
EOC
}
tenant_conf t0 192.168.10.2 10.10.0.0/24 > "$VFD/t0.conf"
tenant_conf t1 192.168.11.2 10.11.0.0/24 > "$VFD/t1.conf"
{
  echo 'connections {'
  remote_conn t0 192.168.10.2 10.10.0.0/24
  remote_conn t1 192.168.11.2 10.11.0.0/24
  echo '}'
  printf 'secrets {\n  ike-t0 {\n    id-a = r@lab\n    id-b = t0@lab\n    secret = %s\n  }\n  ike-t1 {\n    id-a = r@lab\n    id-b = t1@lab\n    secret = %s\n  }\n}\n' "$SECRET" "$SECRET"
} > "$VFD/r.conf"
printf 'connections {\n}\n' > "$VFD/h.conf"
charon_config R "$VFD/r.conf"
charon_config T0 "$VFD/t0.conf"
charon_config T1 "$VFD/t1.conf"
charon_config H "$VFD/h.conf"
charon_start R nsR
charon_start T0 nsT0
charon_start T1 nsT1
charon_start H nsH
for c in R T0 T1; do swanctl_as $c --load-all > /dev/null; done
stamp charons

# ---- mailbox PKI: t1's agent comes in over TCP with mutual TLS, as from a VM ----------
PKI=$VFD/pki
mkdir -p "$PKI"
lab_node test/lab/vf/pki.ts "$PKI" 2> "$LAB_RUN/logs/pki.stderr" || lab_fail "test PKI: $(tail -3 "$LAB_RUN/logs/pki.stderr")"

# ---- daemons ------------------------------------------------------------------------
# The PF daemon runs under ip netns exec: a mount namespace of its own, whose
# /sys is a fresh sysfs without bpffs. Its pins live on a bpffs mounted here
# first, which it inherits (the same instance): they outlive it, a restarted
# daemon finds them, and bpftool reads them from here.
PIN_ROOT=/run/vf-bpf/ipsec-offload
mkdir -p /run/vf-bpf
mount -t bpf bpf /run/vf-bpf
cat > "$VFD/pf.yaml" <<EOC
role: pf
vici:
  socket: $(charon_dir H)/charon.vici
control:
  socket: $VFD/pf.control
log:
  file: $PF_LOG
offload:
  resync_interval: 2s
pf:
  device: nsim0
  unix:
    path: $VFD/vf.sock
    mode: "0666"
  tls:
    listen: 192.168.11.1
    port: 4510
    cert: $PKI/pf.pem
    key: $PKI/pf.key
    ca: $PKI/ca.pem
  heartbeat: 2s
  stale_timeout: 12s
  restart_grace: 20s
  hello_timeout: 10s
  vf_poll: 2s
  store: $VFD/owners.json
  vfs:
    t0:
      vf: 0
      if_id: 100
      addresses: [192.168.10.2, 10.10.0.0/24]
      max_sas: 8
      hw_slots: 2
      route_table: 100
      peer: { unix: { netns: nsT0 } }
    t1:
      vf: 1
      if_id: 101
      addresses: [192.168.11.2, 10.11.0.0/24]
      max_sas: 8
      hw_slots: 2
      route_table: 101
      peer: { tls: { cn: t1 } }
    t2:
      vf: 2
      if_id: 102
      addresses: [192.168.12.2, 10.12.0.0/24]
      max_sas: 4
      hw_slots: 2
      peer: { unix: { netns: nsX } }
steer:
  pin_root: $PIN_ROOT
  uplinks:
    - device: nsim0
      vf_ports: { "0": rep0, "1": rep1, "2": rep2 }
EOC
agent_conf() { # NAME CHARON [PF_TRANSPORT]
  cat <<EOC
role: vf
vici:
  socket: $(charon_dir "$2")/charon.vici
control:
  socket: $VFD/$1.control
log:
  file: $LAB_RUN/logs/agent-$1.log
offload:
  default: false
vf:
  pf:
${3:-    unix: $VFD/vf.sock}
  request_timeout: 60s
  reconnect_min: 200ms
  reconnect_max: 2s
EOC
}
agent_conf t0 T0 > "$VFD/t0.yaml"
agent_conf t1 T1 "    tls:
      host: 192.168.11.1
      port: 4510
      cert: $PKI/t1.pem
      key: $PKI/t1.key
      ca: $PKI/ca.pem
      servername: pf.test" > "$VFD/t1.yaml"

# ev FILE EVENT [KEY=VALUE...] — how many log lines of EVENT carry every "key":value given
# (strings quoted by the caller's VALUE: reason='"new-epoch"', kept=1).
ev() {
  local f=$1 e=$2 kv; shift 2
  local lines
  lines=$(grep -F "\"event\":\"$e\"" "$f" 2>/dev/null) || { echo 0; return; }
  for kv in "$@"; do
    lines=$(printf '%s\n' "$lines" | grep -F "\"${kv%%=*}\":${kv#*=}") || { echo 0; return; }
  done
  printf '%s\n' "$lines" | grep -c .
}
ev_at_least() { [ "$(ev "$@")" -ge "$EV_N" ]; }
# wait_ev SECONDS N FILE EVENT [KEY=VALUE...] — until at least N such lines.
wait_ev() { local s=$1; EV_N=$2; shift 2; wait_for "$s" ev_at_least "$@"; }

daemon_start() { # NAME NETNS CONFIG LOG
  local started
  started=$(ev "$4" daemon.started)
  ip netns exec "$2" node "$VF_CLI" daemon --config "$3" > "$LAB_RUN/logs/$1.stderr" 2>&1 &
  echo $! > "$VFD/$1.pid"
  wait_ev 180 $((started + 1)) "$4" daemon.started || { cat "$LAB_RUN/logs/$1.stderr" >&2; lab_fail "daemon $1 did not start"; }
}
daemon_pid() { cat "$VFD/$1.pid"; }
daemon_stop() { # NAME [SIGNAL]
  local pid; pid=$(daemon_pid "$1")
  kill "-${2:-TERM}" "$pid" 2>/dev/null || true
  for _ in $(seq 1 300); do kill -0 "$pid" 2>/dev/null || return 0; sleep 0.1; done
  kill -KILL "$pid" 2>/dev/null || true
}
pf_cli() { node "$VF_CLI" --socket "$VFD/pf.control" "$@"; }

# ---- what the host holds for one VF ---------------------------------------------------
hexid() { printf '0x%x' "$1"; }
# spis_of IFID — the SPIs of the host SAs with that if_id, sorted, one line.
spis_of() {
  ip -n nsH xfrm state | awk -v id="if_id $(hexid "$1")" '/^src/{spi=""} /proto esp spi/{spi=$4} index($0,id){print spi}' | sort | tr '\n' ' ' | sed 's/ $//'
}
# spi_in_of ADDR — the SPI of the host SA whose destination is ADDR (a tenant's inbound SA)
spi_in_of() { ip -n nsH xfrm state | awk -v d="$1" '/^src/{hit=($4==d)} hit && /proto esp spi/{print $4}' | sort | tr '\n' ' ' | sed 's/ $//'; }
sa_count_if() { ip -n nsH xfrm state | grep -c "if_id $(hexid "$1")" || true; }
pol_count_if() { ip -n nsH xfrm policy | grep -c "if_id $(hexid "$1")" || true; }
sa_count_if_is() { [ "$(sa_count_if "$1")" = "$2" ]; }
# (grep -c, not -q: an early exit would SIGPIPE the writer and fail the pipeline)
nsim_has() { [ "$(nsim_ipsec 1 0 | grep -ic "spi=$1" || true)" -gt 0 ]; }
# ---- what steering holds: the pinned maps, read with bpftool ---------------------------
PINS=$PIN_ROOT/nsim0
# bpftool prints key bytes as "0x.." strings; byte turns one into a number.
JQ_BYTE='def byte: ltrimstr("0x") | explode | reduce .[] as $c (0; . * 16 + (if $c >= 97 then $c - 87 else $c - 48 end));'
# esp_entries — the ESP exceptions as JSON [{vlan, daddr (IPv4), spi}] by SPI
# (struct steer_esp_key: u16 vlan host order, family, pad, be32 spi, daddr[16])
esp_entries() {
  bpftool -j map dump pinned "$PINS/steer_esp" | jq -c "$JQ_BYTE"' [.[].key | {vlan: ((.[1] | byte) * 256 + (.[0] | byte)), daddr: (.[8:12] | map(byte | tostring) | join(".")), spi: ("0x" + (.[4:8] | map(ltrimstr("0x")) | join("")))}] | sort_by(.spi)'
}
# spis_in_esp ENTRIES "SPIS" — how many of the given SPIs have an exception among ENTRIES
spis_in_esp() { jq --arg spis "$2" '[.[].spi] as $have | [$spis | split(" ")[] | select(length > 0) | select(. as $s | $have | index($s))] | length' <<< "$1"; }
# esp_count_of "SPIS" — the same, read from the map now
esp_count_of() { local e; e=$(esp_entries) && spis_in_esp "$e" "$1"; }
esp_none_of() { local n; n=$(esp_count_of "$1") && [ "$n" = 0 ]; }
esp_all_of() { local n; n=$(esp_count_of "$1") && [ "$n" = "$(echo $1 | wc -w)" ]; }
# fdb_has MAC VLAN — an fdb entry (struct steer_fdb_key: mac[6], u16 vlan host order) is pinned
fdb_keys() { bpftool -j map dump pinned "$PINS/steer_fdb" | jq -r "$JQ_BYTE"' .[].key | (.[0:6] | map(ltrimstr("0x")) | join(":")) + "/" + ((.[7] | byte) * 256 + (.[6] | byte) | tostring)'; }
fdb_has() { local k; k=$(fdb_keys) && [ "$(printf '%s\n' "$k" | grep -cx "$1/$2" || true)" -gt 0 ]; }
fdb_lacks() { local k; k=$(fdb_keys) && [ "$(printf '%s\n' "$k" | grep -cx "$1/$2" || true)" = 0 ]; }
fdb_empty() { [ -z "$(fdb_keys)" ]; }
# steer_maps — JSON: the ESP exceptions {vlan, daddr (IPv4), spi}, fdb keys "mac/vlan", port count; null where a map cannot be read
steer_maps() {
  local esp fdb ports
  esp=$(esp_entries) || esp=null
  fdb=$(fdb_keys | jq -Rsc 'split("\n") | map(select(length > 0)) | sort') || fdb=null
  ports=$(bpftool -j map dump pinned "$PINS/steer_port_info" | jq 'length') || ports=null
  echo "{\"esp\":$esp,\"fdb\":$fdb,\"ports\":$ports}"
}
# leftovers NAME VF IFID TABLE "SPIS" — JSON: what of the VF is still on the host
# (SAs / policies with its if_id, its interface, routes in its table, given SPIs in
# the kernel, in netdevsim's own SA table or among steering's ESP exceptions; the
# steering maps). Steering follows the SA model within its half-second poll: the
# exceptions get 15 s to go before the snapshot.
leftovers() {
  local name=$2 ifid=$3 table=$4 spis=$5 s inkernel=0 innsim=0 link=false routes maps inesp
  wait_for 15 esp_none_of "$spis" || true
  for s in $spis; do
    [ "$(ip -n nsH xfrm state | grep -c "spi $s " || true)" -gt 0 ] && inkernel=$((inkernel + 1))
    nsim_has "$s" && innsim=$((innsim + 1))
  done
  ip -n nsH link show "vf-$name" > /dev/null 2>&1 && link=true
  routes=0
  [ "$table" = - ] || routes=$(ip -n nsH route show table "$table" 2>/dev/null | grep -c . || true)
  maps=$(steer_maps)
  inesp=$(spis_in_esp "$(jq -c '.esp' <<< "$maps")" "$spis" 2> /dev/null) || inesp=null
  result "$1" "{\"vf\":\"$name\",\"spis\":\"$spis\",\"sas\":$(sa_count_if "$ifid"),\"policies\":$(pol_count_if "$ifid"),\"interface\":$link,\"routes\":$routes,\"oldSpisInKernel\":$inkernel,\"oldSpisInNsim\":$innsim,\"oldSpisInEsp\":$inesp,\"nsimCount\":$(nsim_sa_count 1 0),\"steer\":$maps,\"atS\":$(mark)}"
}
ping_r() { ip netns exec nsR ping -c 3 -i 0.3 -W 2 -I 10.20.0.1 "$1"; }
ping_ok() { ip netns exec nsR ping -c 1 -W 2 -I 10.20.0.1 "$1"; }

# ---- 1. tenants up, IPsec terminated on the host ---------------------------------
daemon_start pf nsH "$VFD/pf.yaml" "$PF_LOG"
daemon_start agent-t0 nsT0 "$VFD/t0.yaml" "$LAB_RUN/logs/agent-t0.log"
daemon_start agent-t1 nsT1 "$VFD/t1.yaml" "$LAB_RUN/logs/agent-t1.log"
wait_ev 120 1 "$PF_LOG" vf.connected vf='"t0"' || lab_fail "agent t0 never connected"
wait_ev 120 1 "$PF_LOG" vf.connected vf='"t1"' || lab_fail "agent t1 never connected"
stamp daemons
swanctl_as T0 --initiate --child net --timeout 60 > "$LAB_RUN/logs/initiate-t0.txt" 2>&1 || lab_fail "t0 initiate: $(cat "$LAB_RUN/logs/initiate-t0.txt")"
swanctl_as T1 --initiate --child net --timeout 60 > "$LAB_RUN/logs/initiate-t1.txt" 2>&1 || lab_fail "t1 initiate"
wait_for 90 sa_count_if_is 100 2 || lab_fail "t0 SAs not on the host: $(ip -n nsH xfrm state | grep -c spi)"
wait_for 90 sa_count_if_is 101 2 || lab_fail "t1 SAs not on the host"
# Both VFs' SAs end up on netdevsim (2 hardware slots each).
nsim4() { [ "$(nsim_sa_count 1 0)" = 4 ]; }
wait_for 90 nsim4 || true
# Steering: each tenant's inbound SA gets its ESP exception on nsim0.
T0_IN=$(spi_in_of 192.168.10.2)
T1_IN=$(spi_in_of 192.168.11.2)
wait_for 30 esp_all_of "$T0_IN $T1_IN" || true
result steer_up "{\"t0In\":\"$T0_IN\",\"t1In\":\"$T1_IN\",\"maps\":$(steer_maps)}"
pf_cli --json steer list nsim0 > "$LAB_RESULTS/steer-list-up.json" 2> "$LAB_RUN/logs/steer-list-up.stderr" || true
stamp up
ip -n nsH xfrm state > "$LAB_RESULTS/host-state.xfrm"
ip -n nsH xfrm policy > "$LAB_RESULTS/host-policy.txt"
ip -n nsT0 xfrm state > "$LAB_RESULTS/t0-state.xfrm"
capture t0_policies ip -n nsT0 xfrm policy
capture host_links ip -n nsH -d link show type xfrm
capture host_routes ip -n nsH route show table 100
capture host_rules ip -n nsH rule show
nsim_ipsec 1 0 | grep -v 'key=' | result_text nsim-up
T0_SPIS=$(spis_of 100)
T1_SPIS=$(spis_of 101)
capture ping_t0 ping_r 10.10.0.2
capture ping_t1 ping_r 10.11.0.2
capture host_counters sh -c "ip -n nsH -s xfrm state | grep -A1 'lifetime current'"
result up "{\"t0\":\"$T0_SPIS\",\"t1\":\"$T1_SPIS\",\"nsimCount\":$(nsim_sa_count 1 0)}"

# ---- 2. a malicious tenant (VF t2, nsX) --------------------------------------------
# One scripted peer: a forged sa.add for t1's address, two valid CHILD_SAs (fake keys),
# one beyond the quota (max_sas 4), heartbeats while the host is inspected, a flood,
# then garbage on fresh connections. It runs in the background; the host is
# inspected while it holds its SAs.
GARBAGE=$(printf 'GET / HTTP/1.1\r\n\r\n' | od -An -tx1 | tr -d ' \n')
add_step() { # UNIQUEID LOCAL LOCAL_NET SPI_LOW
  printf '{"req":"sa.add","child":{"uniqueid":%s,"local":"%s","remote":"172.16.0.2","spiIn":%s,"spiOut":%s,"localTs":[{"family":2,"proto":0,"prefixlen":24,"fromPort":0,"toPort":65535,"address":"%s"}]}},' \
    "$1" "$2" $((0xc0000000 + $4)) $((0xc1000000 + $4)) "$3"
}
HB=""
for _ in $(seq 1 20); do HB="$HB{\"req\":\"heartbeat\"},{\"sleep\":1500},"; done
PEER_SCRIPT="{\"pf\":{\"unix\":\"$VFD/vf.sock\"},\"steps\":[{\"req\":\"hello\",\"epoch\":\"00000000000000b2\"},\
$(add_step 1 192.168.11.2 10.11.0.0 $((0x101)))$(add_step 2 192.168.12.2 10.12.0.0 $((0x102)))$(add_step 3 192.168.12.2 10.12.0.0 $((0x103)))$(add_step 4 192.168.12.2 10.12.0.0 $((0x104)))\
$HB{\"req\":\"heartbeat\"},{\"flood\":500},{\"raw\":\"$GARBAGE\"},{\"raw\":\"ffffffffffffffff0000\"}]}"
printf '%s\n' "$PEER_SCRIPT" > "$VFD/attack.json"
# peer NETNS NAME SCRIPT — the host tests' scripted mailbox peer; its lines in results/NAME.txt
peer() { ip netns exec "$1" node --import tsx "$LAB_PROJECT/test/host/vf/support/peer.ts" "$3" > "$LAB_RESULTS/$2.txt" 2> "$LAB_RUN/logs/$2.stderr"; }
peer nsX attack "$PEER_SCRIPT" &
ATTACK_PID=$!
# Meanwhile, certificates the PF must refuse, from t1's netns over TLS: t1's own CN
# signed by another CA, and a CA-signed one for a name no VF has.
tls_peer() { # CERT_NAME EPOCH
  printf '{"pf":{"tls":{"host":"192.168.11.1","port":4510,"cert":"%s","key":"%s","ca":"%s","servername":"pf.test"}},"steps":[{"req":"hello","epoch":"%s"}]}' \
    "$PKI/$1.pem" "$PKI/$1.key" "$PKI/ca.pem" "$2"
}
peer nsT1 tls-rogue "$(tls_peer rogue 00000000000000c1)" || true
peer nsT1 tls-stranger "$(tls_peer stranger 00000000000000c2)" || true
t2_full() { [ "$(sa_count_if 102)" = 4 ] && [ "$(nsim_sa_count 1 0)" = 6 ]; }
wait_for 120 t2_full || true
wait_for 15 esp_all_of "0xc0000102 0xc0000103" || true
pf_cli --json vf list > "$LAB_RESULTS/list-attack.json" 2> "$LAB_RUN/logs/list-attack.stderr" || true
result attack_state "{\"t2sas\":$(sa_count_if 102),\"t2policies\":$(pol_count_if 102),\"t0\":\"$(spis_of 100)\",\"t1\":\"$(spis_of 101)\",\"nsimCount\":$(nsim_sa_count 1 0),\"esp\":$(esp_entries || echo null)}"
wait "$ATTACK_PID" || true
stamp attack
result attack_after "{\"t0\":\"$(spis_of 100)\",\"t1\":\"$(spis_of 101)\",\"pfAlive\":$(kill -0 "$(daemon_pid pf)" 2>/dev/null && echo true || echo false)}"
capture ping_t1_after_attack ping_r 10.11.0.2
capture ping_t0_after_attack ping_r 10.10.0.2
# The attacker went away without bye: its SAs go after the stale timeout.
wait_ev 90 1 "$PF_LOG" vf.stale_cleanup vf='"t2"' || true
leftovers t2_gone t2 102 - "0xc0000102 0xc1000102 0xc0000103 0xc1000103"

# ---- 3. trigger: new epoch (the tenant's charon restarts) ------------------------------
# A crash, as in a reboot: charon says nothing to anyone (no DELETE, no child-updown).
charon_stop T0 KILL
sleep 1.5
charon_start T0 nsT0
swanctl_as T0 --load-all > /dev/null
wait_ev 120 1 "$PF_LOG" vf.stale_cleanup vf='"t0"' reason='"new-epoch"' || lab_fail "no new-epoch cleanup"
# The hello is answered only after the cleanup: the connected line says removed=2.
wait_ev 60 1 "$PF_LOG" vf.connected vf='"t0"' removed=2 || true
leftovers epoch t0 100 100 "$T0_SPIS"
result epoch_t1 "{\"t1\":\"$(spis_of 101)\"}"
stamp epoch
swanctl_as T0 --initiate --child net --timeout 60 > "$LAB_RUN/logs/initiate-t0-2.txt" 2>&1 || true
wait_for 90 sa_count_if_is 100 2 || lab_fail "t0 not back after the new epoch"
T0_SPIS=$(spis_of 100)
wait_for 30 ping_ok 10.10.0.2 || true
capture ping_t0_epoch ping_r 10.10.0.2

# ---- 4. trigger: heartbeats stop -------------------------------------------------
kill -STOP "$(daemon_pid agent-t0)"
HB_AT=$(date +%s)
wait_ev 90 1 "$PF_LOG" vf.stale_cleanup vf='"t0"' reason='"heartbeat-timeout"' || lab_fail "no heartbeat-timeout cleanup"
HB_S=$(( $(date +%s) - HB_AT ))
leftovers heartbeat t0 100 100 "$T0_SPIS"
result heartbeat_t1 "{\"t1\":\"$(spis_of 101)\",\"afterS\":$HB_S}"
stamp heartbeat
# Back: the agent reconnects, the PF refuses the retired SAs, the agent has charon rekey.
kill -CONT "$(daemon_pid agent-t0)"
back_t0() { [ "$(sa_count_if 100)" = 2 ] && [ "$(spis_of 100)" != "$T0_SPIS" ]; }
wait_for 120 back_t0 || lab_fail "t0 not back after the heartbeat timeout"
T0_SPIS=$(spis_of 100)
wait_for 30 ping_ok 10.10.0.2 || true
capture ping_t0_rekeyed ping_r 10.10.0.2
result retired "{\"agentRekeys\":$(ev "$LAB_RUN/logs/agent-t0.log" vf.agent_rekey reason='"retired"'),\"refusedRetired\":$(ev "$LAB_RUN/logs/agent-t0.log" vf.agent_refused reason='"retired"')}"

# ---- 5. trigger: the PF changes the VF (t0: MAC, t1: VLAN) ----------------------------
# The agents are paused so nothing comes back before the host is inspected.
kill -STOP "$(daemon_pid agent-t0)"
ip -n nsH link set nsim0 vf 0 mac 02:00:00:00:0b:00
wait_ev 60 1 "$PF_LOG" vf.stale_cleanup vf='"t0"' reason='"vf-mac-changed"' || lab_fail "no vf-mac-changed cleanup"
wait_for 15 fdb_has 02:00:00:00:0b:00 100 || true
leftovers mac t0 100 100 "$T0_SPIS"
kill -CONT "$(daemon_pid agent-t0)"
kill -STOP "$(daemon_pid agent-t1)"
ip -n nsH link set nsim0 vf 1 vlan 201
wait_ev 60 1 "$PF_LOG" vf.stale_cleanup vf='"t1"' reason='"vf-vlan-changed"' || lab_fail "no vf-vlan-changed cleanup"
wait_for 15 fdb_has 02:00:00:00:0a:01 201 || true
leftovers vlan t1 101 101 "$T1_SPIS"
kill -CONT "$(daemon_pid agent-t1)"
capture vfinfo_changed ip -n nsH -d link show nsim0
stamp settings
wait_for 120 back_t0 || lab_fail "t0 not back after the MAC change"
back_t1() { [ "$(sa_count_if 101)" = 2 ] && [ "$(spis_of 101)" != "$T1_SPIS" ]; }
wait_for 120 back_t1 || lab_fail "t1 not back after the VLAN change"
T0_SPIS=$(spis_of 100)
T1_SPIS=$(spis_of 101)
# t0 once more: the PF disables its link (as a reset does), then gives it back.
kill -STOP "$(daemon_pid agent-t0)"
ip -n nsH link set nsim0 vf 0 state disable
wait_ev 60 1 "$PF_LOG" vf.stale_cleanup vf='"t0"' reason='"vf-link-disabled"' || lab_fail "no vf-link-disabled cleanup"
leftovers linkstate t0 100 100 "$T0_SPIS"
ip -n nsH link set nsim0 vf 0 state auto
kill -CONT "$(daemon_pid agent-t0)"
wait_for 120 back_t0 || lab_fail "t0 not back after its link was enabled again"
T0_SPIS=$(spis_of 100)
wait_for 30 ping_ok 10.10.0.2 || true
wait_for 30 ping_ok 10.11.0.2 || true

# ---- 6. trigger: the PF daemon restarts; t1's agent does not come back -------------
wait_for 60 nsim4 || true
T0_CLEAN_BEFORE=$(ev "$PF_LOG" vf.stale_cleanup vf='"t0"')
NSIM_BEFORE=$(nsim_ipsec 1 0 | grep -io 'spi=0x[0-9a-f]*' | sort | tr '\n' ' ')
daemon_stop pf
daemon_stop agent-t1 KILL
RESTART_AT=$(date +%s)
daemon_start pf nsH "$VFD/pf.yaml" "$PF_LOG"
wait_ev 120 1 "$PF_LOG" vf.connected vf='"t0"' kept=1 || true
result restart_t0 "{\"before\":\"$T0_SPIS\",\"after\":\"$(spis_of 100)\",\"t0CleanupsBefore\":$T0_CLEAN_BEFORE,\"t0Cleanups\":$(ev "$PF_LOG" vf.stale_cleanup vf='"t0"'),\"connectedKept\":$(ev "$PF_LOG" vf.connected vf='"t0"' kept=1 removed=0),\"restored\":$(ev "$PF_LOG" vf.restored children=1)}"
capture ping_t0_restart ping_r 10.10.0.2
wait_ev 120 1 "$PF_LOG" vf.stale_cleanup vf='"t1"' reason='"restart-grace"' || lab_fail "no restart-grace cleanup"
GRACE_S=$(( $(date +%s) - RESTART_AT ))
leftovers grace t1 101 101 "$T1_SPIS"
result restart_after "{\"t0\":\"$(spis_of 100)\",\"t0Cleanups\":$(ev "$PF_LOG" vf.stale_cleanup vf='"t0"'),\"graceS\":$GRACE_S,\"nsimBefore\":\"$NSIM_BEFORE\",\"nsimAfter\":\"$(nsim_ipsec 1 0 | grep -io 'spi=0x[0-9a-f]*' | sort | tr '\n' ' ')\"}"
capture ping_t0_after_grace ping_r 10.10.0.2
stamp restart

# ---- 7. vf list, vf reset --------------------------------------------------------------
pf_cli --json vf list > "$LAB_RESULTS/list-final.json" 2> "$LAB_RUN/logs/list-final.stderr" || true
# The agent is paused so it cannot reinstall anything before the host is inspected.
kill -STOP "$(daemon_pid agent-t0)"
result reset_at "{\"ms\":$(date +%s%3N)}"
capture reset pf_cli --json vf reset t0
leftovers reset_left t0 100 100 "$T0_SPIS"
stamp reset

# ---- 8. trigger: the VF count drops (sriov_numvfs 3 -> 0): t0's VF is gone ------
kill -CONT "$(daemon_pid agent-t0)"
wait_for 120 back_t0 || lab_fail "t0 not back after vf reset"
T0_SPIS=$(spis_of 100)
echo 0 > /sys/bus/netdevsim/devices/netdevsim1/sriov_numvfs
wait_ev 60 1 "$PF_LOG" vf.stale_cleanup vf='"t0"' reason='"vf-removed"' || lab_fail "no vf-removed cleanup"
wait_for 15 fdb_empty || true
leftovers numvfs t0 100 100 "$T0_SPIS"
# Its agent keeps trying; the PF refuses it while the VF does not exist.
wait_ev 60 1 "$PF_LOG" vf.refused vf='"t0"' request='"hello"' || true
result numvfs_after "{\"refusedHello\":$(ev "$PF_LOG" vf.refused vf='"t0"' request='"hello"'),\"t0sas\":$(sa_count_if 100)}"
stamp numvfs

daemon_stop agent-t0 KILL
daemon_stop pf
for c in R T0 T1 H; do charon_stop $c; done
result times "{${TIMES}\"total\":$(mark)}"
