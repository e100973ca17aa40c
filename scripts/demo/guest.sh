# The demo, guest side: runs in the lab VM (real Debian kernel + netdevsim).
# Narration goes to stdout; the host streams it as it happens.
say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
note() { printf '   %s\n' "$*"; }

lab_modules
say "1. A NIC with an IPsec crypto engine (netdevsim, the kernel's NIC simulator)"
DEV=$(nsim_create 1 1)
ip link set "$DEV" up
ip addr add 10.0.0.1/24 dev "$DEV"
ethtool -k "$DEV" | grep esp-hw-offload
note "esp-hw-offload on: the driver registered xfrmdev_ops; its SA table has 33 slots."

say "2. An AES-GCM SA pair installed with crypto offload on $DEV"
KEY=0x$(head -c 20 /dev/urandom | od -An -tx1 | tr -d ' \n')
ip xfrm state add src 10.0.0.1 dst 10.0.0.2 proto esp spi 0x1000 reqid 1 mode transport \
  aead 'rfc4106(gcm(aes))' "$KEY" 128 offload dev "$DEV" dir out
ip xfrm state add src 10.0.0.2 dst 10.0.0.1 proto esp spi 0x1001 reqid 1 mode transport \
  aead 'rfc4106(gcm(aes))' "$KEY" 128 offload dev "$DEV" dir in
ip xfrm state | grep -E '^src|proto esp|offload' | sed 's/^/   /'
note "'crypto offload parameters' = the kernel reports XFRMA_OFFLOAD_DEV: the NIC owns these SAs."

say "3. The NIC's own SA table (debugfs) agrees"
nsim_ipsec 1 0 | grep -v key= | sed 's/^/   /'

say "4. What ipsec-offload exists for: the offload device goes down"
ip link set "$DEV" down
note "SAs left in the kernel: $(ip xfrm state | grep -c '^src') (the kernel deleted both, silently: no XFRM event)"
note "charon would still list the CHILD_SA as INSTALLED; traffic is blackholed until a rekey."
note "Noticing this (rtnetlink) and re-installing the SAs in software is the daemon's job;"
note "this build has the kernel interface and lab, not the daemon yet: the demo shows the gap."

say "Summary"
note "Proved on a real Debian $(uname -r) kernel: an SA offloaded to a NIC shows in"
note "ip xfrm state and in the NIC's table, and the kernel drops it without notice when the"
note "device goes down. See README.md for what the daemon builds on these facts."
