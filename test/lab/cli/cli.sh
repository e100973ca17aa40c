# The CLI against a daemon with real offloaded SAs (netdevsim), every command
# with and without --json; pins; a device down/up under a ping; logs -f across
# a rotation; and the key audit over everything written.
key_guard keys
offload_topology 1 veth
charons_up
offload_config A '  rules:
    - match: "lab/*"
      offload: true
      device: nsim0' > /dev/null
offload_start A
initiate_offloaded A gcm
offload_cli A wait

# Follow the log from now on (across the rotation below).
offload_cli A --json logs -f -n 0 > "$LAB_RESULTS/follow.ndjson" 2> "$LAB_RUN/logs/follow.stderr" &
FOLLOW=$!

capture status offload_cli A status
capture status_json offload_cli A --json status
capture list offload_cli A sa list
offload_cli A --json sa list > "$LAB_RESULTS/rows.json"
SPI_OUT=$(jq -r 'map(select(.dir == "out"))[0].spi' "$LAB_RESULTS/rows.json")
CHILD_ID=$(jq -r '.[0].uniqueid' "$LAB_RESULTS/rows.json")
result refs "{\"spiOut\":\"$SPI_OUT\",\"uniqueid\":$CHILD_ID}"
capture show_spi offload_cli A sa show "$SPI_OUT"
capture show_spi_json offload_cli A --json sa show "$SPI_OUT"
capture show_uid_json offload_cli A --json sa show "$CHILD_ID"
capture show_conn_json offload_cli A --json sa show lab/gcm
capture show_missing offload_cli A sa show 0x00000001
capture list_software_json offload_cli A --json sa list --state software
capture list_nomatch offload_cli A sa list --conn 'nomatch*'
capture device offload_cli A device list
capture device_json offload_cli A --json device list

# Pins.
capture demote offload_cli A sa demote lab/gcm
capture demoted_json offload_cli A --json sa list
capture promote_json offload_cli A --json sa promote "$SPI_OUT"
capture unpin_json offload_cli A --json sa unpin lab/gcm
wait_for 60 sa_count_is A offloaded 2 || lab_fail "not offloaded after unpin: $(offload_cli A sa list)"

# The device goes down and up under a ping.
ping_start ping nsA 10.0.0.2
sleep 1.5
ip -n nsA link set nsim0 down
wait_for 30 sa_count_is A software 2 || lab_fail "not in software after device down: $(offload_cli A sa list)"
capture down_json offload_cli A --json sa list
capture down_device_json offload_cli A --json device list
capture down_status offload_cli A status
ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-down.xfrm"
sleep 1
ip -n nsA link set nsim0 up
wait_for 60 sa_count_is A offloaded 2 || { ip -n nsA xfrm state > "$LAB_RESULTS/xfrm-up.xfrm"; lab_fail "not offloaded after device up: $(offload_cli A sa list)"; }
ping_stop ping

# Rotation (as packaging/logrotate does it), then more events for logs -f.
mv "$LAB_RUN/logs/offload-A.log" "$LAB_RUN/logs/offload-A.log.1"
kill -USR1 "$(cat "$LAB_TMP/offload/A/pid")"
wait_for 10 test -s "$LAB_RUN/logs/offload-A.log" || lab_fail "no new log file after SIGUSR1"
offload_cli A sa demote "$SPI_OUT" > /dev/null
offload_cli A sa unpin "$SPI_OUT" > /dev/null
wait_for 60 sa_count_is A offloaded 2 || lab_fail "not offloaded after the last unpin"
sleep 1
kill "$FOLLOW"
capture logs_pretty offload_cli A logs --since 30m --event 'sa.*,device.*'
capture logs_spi offload_cli A --json logs --since 30m --spi "$SPI_OUT"
capture logs_warn offload_cli A --json logs --since 30m --conn 'lab/*' --level warn
offload_stop A
