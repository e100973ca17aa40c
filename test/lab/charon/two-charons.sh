# Guest side of two-charons.test.ts (runs in the lab VM; lib.sh is sourced).
lab_modules
netns_add nsA
netns_add nsB
veth_link nsA vethA 10.0.0.1/24 nsB vethB 10.0.0.2/24
charon_config A "$LAB_PROJECT/swanctl/host-a/swanctl.conf"
charon_config B "$LAB_PROJECT/swanctl/host-b/swanctl.conf"
charon_start A nsA
charon_start B nsB
swanctl_as A --load-all > /dev/null
swanctl_as B --load-all > /dev/null
capture initiate swanctl_as A --initiate --child gcm --timeout 60
capture sas swanctl_as A --list-sas --raw
capture ping ip netns exec nsA ping -c 3 -W 2 10.0.0.2
capture xfrm_a ip -n nsA -s xfrm state
capture xfrm_b ip -n nsB -s xfrm state
charon_stop A
charon_stop B
