# Guest side of netdevsim-offload.test.ts (runs in the lab VM; lib.sh is sourced).
lab_modules
DEV=$(nsim_create 1 1)
ip link set "$DEV" up
ip addr add 10.0.0.1/24 dev "$DEV"
# A fixed test key: this SA protects nothing.
KEY=0x0102030405060708090a0b0c0d0e0f1011121314
sa() { ip xfrm state add src $1 dst $2 proto esp spi $3 reqid 1 mode transport aead 'rfc4106(gcm(aes))' $KEY 128 "${@:4}"; }

capture features ethtool -k "$DEV"

# 1. one offloaded pair
sa 10.0.0.1 10.0.0.2 0x1000 offload dev "$DEV" dir out
sa 10.0.0.2 10.0.0.1 0x1001 offload dev "$DEV" dir in
capture pair_states ip xfrm state
nsim_ipsec 1 0 | result_text pair_table

# 2. fill the 33-slot table, then one more
ip xfrm state flush
accepted=0; failure=""; failrc=0
for i in $(seq 0 39); do
  spi=$(printf 0x%x $((0x5000 + i)))
  if out=$(sa 10.0.0.1 10.0.0.2 $spi offload dev "$DEV" dir out 2>&1); then
    accepted=$((accepted + 1))
  else
    failrc=$?; failure=$out; break
  fi
done
# The 34th once more under strace: iproute2 prints only the kernel's message,
# strace decodes the errno of the NLMSG_ERROR independently of our code.
capture fill_errno strace -f -e trace=recvmsg -s 512 ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x5100 reqid 1 mode transport aead 'rfc4106(gcm(aes))' $KEY 128 offload dev "$DEV" dir out
result fill "$(jq -cn --argjson a "$accepted" --arg f "$failure" --argjson rc "$failrc" --argjson n "$(ip xfrm state | grep -c '^src')" --argjson c "$(nsim_sa_count 1 0)" \
  '{accepted: $a, failure: $f, failrc: $rc, states: $n, tableCount: $c}')"

# 3. ESN with offload, then the same SA in software
ip xfrm state flush
capture esn_offload strace -f -e trace=recvmsg -s 512 ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x2000 reqid 1 mode transport aead 'rfc4106(gcm(aes))' $KEY 128 flag esn replay-window 128 offload dev "$DEV" dir out
capture esn_software sa 10.0.0.1 10.0.0.2 0x2001 flag esn replay-window 128
capture esn_states ip xfrm state
