# Helpers for the VICI scenarios (sourced by guest scripts after lib.sh).

# charon_pair_up TAG CONF_A CONF_B [EXTRA_CHARON_OPTIONS] — namespaces ns<TAG>A and
# ns<TAG>B joined by a veth (10.0.0.1/24 <-> 10.0.0.2/24), charons <TAG>A and <TAG>B
# started in them; B's config loaded, A's only when LOAD_A is not "no" (a caller
# that wants to watch A's start_action subscribes first, then loads).
charon_pair_up() {
  local t=$1
  netns_add "ns${t}A"
  netns_add "ns${t}B"
  veth_link "ns${t}A" "v${t}a" 10.0.0.1/24 "ns${t}B" "v${t}b" 10.0.0.2/24
  charon_config "${t}A" "$2" "${4:-}"
  charon_config "${t}B" "$3" "${4:-}"
  charon_start "${t}A" "ns${t}A"
  charon_start "${t}B" "ns${t}B"
  swanctl_as "${t}B" --load-all > /dev/null
  if [ "${LOAD_A:-yes}" != no ]; then swanctl_as "${t}A" --load-all > /dev/null; fi
}

# charon_pair_down TAG — stop both charons (charon_stop waits until each is gone).
charon_pair_down() {
  charon_stop "$1A"
  charon_stop "$1B"
}

# vici_args TAG [MORE_JSON_FIELDS] — JSON for the guest drivers: both charons' sockets,
# namespaces and swanctl environment (plus the given fields, e.g. '"rounds":3').
vici_args() {
  local t=$1 a b
  a=$(charon_dir "${t}A")
  b=$(charon_dir "${t}B")
  printf '{"a":{"socket":"%s","ns":"ns%sA","conf":"%s","swanctlDir":"%s"},"b":{"socket":"%s","ns":"ns%sB","conf":"%s","swanctlDir":"%s"}%s}' \
    "$a/charon.vici" "$t" "$a/strongswan.conf" "$a/swanctl" "$b/charon.vici" "$t" "$b/strongswan.conf" "$b/swanctl" "${2:+,$2}"
}

# phase NAME CMD... — run one part of a scenario: its output goes to result
# text NAME.log (and the tail to the console), its exit status to result
# NAME-rc; a failing part does not stop the ones after it.
phase() {
  local name=$1 rc=0
  shift
  "$@" > "$LAB_RESULTS/$name.log.txt" 2>&1 || rc=$?
  echo "phase $name: exit $rc"
  tail -n 30 "$LAB_RESULTS/$name.log.txt"
  result "$name-rc" "{\"rc\":$rc}"
}

# Quiet file logs (each line is a 9p write in the guest, and charon's cfg level 2
# logs every child config it walks per CREATE_CHILD_SA) and a retransmit
# timeout that a TCG guest under load does not hit (4 s by default).
VICI_QUIET='  retransmit_timeout = 30
  filelog {
    lab {
      default = 1
      knl = 1
      cfg = 1
    }
  }'
