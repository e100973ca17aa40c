# Guest side of linkdown-silent-flush.test.ts (runs in the lab VM; lib.sh is sourced).
lab_modules
DEV=$(nsim_create 2 1)
ip link set "$DEV" up
ip addr add 10.0.0.1/24 dev "$DEV"
KEY=0x0102030405060708090a0b0c0d0e0f1011121314
sa() { ip xfrm state add src $1 dst $2 proto esp spi $3 reqid 1 mode transport aead 'rfc4106(gcm(aes))' $KEY 128 "${@:4}"; }
sa 10.0.0.1 10.0.0.2 0x100 offload dev "$DEV" dir out
sa 10.0.0.2 10.0.0.1 0x101 offload dev "$DEV" dir in
# A software SA on the same host must survive the device going down.
sa 10.0.0.1 10.0.0.9 0x300

stdbuf -oL ip xfrm monitor all > "$LAB_RESULTS/monitor.txt" 2>&1 &
MON=$!
sleep 1
# Control events before and after: they prove the monitor was listening.
sa 10.0.0.1 10.0.0.3 0x999; ip xfrm state delete src 10.0.0.1 dst 10.0.0.3 proto esp spi 0x999
before=$(ip xfrm state | grep -c '^src')
ip link set "$DEV" down
sleep 1
after=$(ip xfrm state | grep -c '^src')
tableAfter=$(nsim_sa_count 2 0)
sa 10.0.0.1 10.0.0.3 0x998; ip xfrm state delete src 10.0.0.1 dst 10.0.0.3 proto esp spi 0x998
sleep 1
kill $MON
ip link set "$DEV" up
sleep 0.5
afterUp=$(ip xfrm state | grep -c '^src')
ip xfrm state > "$LAB_RESULTS/remaining.txt"
result counts "{\"before\":$before,\"after\":$after,\"afterUp\":$afterUp,\"tableAfter\":$tableAfter}"
