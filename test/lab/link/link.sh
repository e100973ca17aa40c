# Guest side of link.test.ts (runs in the lab VM; lib.sh is sourced).
lab_modules
nsim_create 1 1 > /dev/null
PF=$(nsim_port_dev 1 0)
printf '%s' "$PF" | result_text pf
echo 4 > /sys/bus/netdevsim/devices/netdevsim1/sriov_numvfs
ip link set "$PF" up
lab_node test/lab/link/guest-link.ts basic "$PF"
# iproute2 and ethtool as witnesses of what our clients did and read
capture ip_links ip -j -d link show
capture ethtool_pf ethtool --json -k "$PF"
capture ethtool_xfrm ethtool --json -k ipsec5
# A VF list past 64 KiB: 250 VFs x 296 bytes with per-VF stats
echo 0 > /sys/bus/netdevsim/devices/netdevsim1/sriov_numvfs
echo 250 > /sys/kernel/debug/netdevsim/netdevsim1/max_vfs
echo 250 > /sys/bus/netdevsim/devices/netdevsim1/sriov_numvfs
lab_node test/lab/link/guest-link.ts many "$PF"
capture ip_many ip -d link show dev "$PF"
