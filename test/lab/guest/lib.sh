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
  result "$name" "$(node -e 'process.stdout.write(JSON.stringify({rc:Number(process.argv[1]),out:process.argv[2]}))' "$rc" "$out")"
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

charon_stop() {
  local d; d=$(charon_dir "$1")
  [ -f "$d/pid" ] && kill "$(cat "$d/pid")" 2>/dev/null
  rm -f "$d/pid"
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
