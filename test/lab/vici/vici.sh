# Guest side of vici.test.ts (lib.sh is sourced). The test prepends the
# generated many-children configs ($LAB_TMP/many/a.conf, b.conf) and
# MANY_CONNS / MANY_CHILDREN / STORM_ROUNDS. Three charon pairs, one after the
# other, each in its own two namespaces (10.0.0.1 <-> 10.0.0.2 on a veth),
# on the kernel's XFRM datapath.
source "$LAB_PROJECT/test/lab/vici/pair.sh"
lab_modules

# 1. child-updown: the repo's swanctl/host-a and host-b, verbatim.
charon_pair_up U "$LAB_PROJECT/swanctl/host-a/swanctl.conf" "$LAB_PROJECT/swanctl/host-b/swanctl.conf"
phase updown lab_node test/lab/vici/guest-vici.ts updown "$(vici_args U)"
charon_pair_down U

# 2. child-rekey: rekey_time 8 s on A.
charon_pair_up R "$LAB_PROJECT/test/lab/vici/swanctl/rekey-a.conf" "$LAB_PROJECT/test/lab/vici/swanctl/rekey-b.conf"
phase rekey lab_node test/lab/vici/guest-vici.ts rekey "$(vici_args R)"
charon_pair_down R

# 3. list-sas of MANY_CONNS x MANY_CHILDREN CHILD_SAs, 4. the event storm.
charon_pair_up M "$LAB_TMP/many/a.conf" "$LAB_TMP/many/b.conf" "$VICI_QUIET"
phase many lab_node test/lab/vici/guest-vici.ts many "$(vici_args M "\"conns\":$MANY_CONNS,\"children\":$MANY_CHILDREN,\"rounds\":$STORM_ROUNDS")"
charon_pair_down M
