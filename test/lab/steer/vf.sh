# Steering entries from SR-IOV VF info on a PF: netdevsim with two VFs whose
# MAC and VLAN are set on the PF, switchdev mode for VF representors.
lab_modules
nsim_create 7 1 > /dev/null
PF=$(nsim_port_dev 7 0)
echo 3 > /sys/bus/netdevsim/devices/netdevsim7/sriov_numvfs
ip link set "$PF" vf 0 mac 02:00:00:00:0a:00 vlan 100
ip link set "$PF" vf 1 mac 02:00:00:00:0a:01
# VF 2 keeps an all-zero MAC: not steerable
devlink dev eswitch set netdevsim/netdevsim7 mode switchdev
ip link set "$PF" up
REP0=$(nsim_vf_rep 0) && REP1=$(nsim_vf_rep 1) && REP2=$(nsim_vf_rep 2) || lab_fail "no VF representors"
for r in $REP0 $REP1 $REP2; do ip link set "$r" up; done
result reps "{\"pf\":\"$PF\",\"rep0\":\"$REP0\",\"rep1\":\"$REP1\",\"rep2\":\"$REP2\"}"
lab_node test/lab/steer/guest.ts mount '{"dir":"/tmp/vf-pins"}' > /dev/null
VF_ARGS="{\"uplink\":\"$PF\",\"pinRoot\":\"/tmp/vf-pins\",\"vfPorts\":{\"0\":\"$REP0\",\"1\":\"$REP1\",\"2\":\"$REP2\"}}"
result vf "$(lab_node test/lab/steer/guest.ts vf "$VF_ARGS")"
capture links ip -d link show
# The PF resets VF 0 for another tenant (new MAC and VLAN) and clears VF 1's
# MAC: a reconcile from the VF list read again leaves nothing of the old
# settings in the maps.
ip link set "$PF" vf 0 mac 02:00:00:00:0b:00 vlan 200
ip link set "$PF" vf 1 mac 00:00:00:00:00:00
result vf_reset "$(lab_node test/lab/steer/guest.ts vf "$VF_ARGS")"
result detach "$(lab_node test/lab/steer/guest.ts detach "{\"uplink\":\"$PF\",\"pinRoot\":\"/tmp/vf-pins\"}")"
