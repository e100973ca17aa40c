/* SPDX-License-Identifier: GPL-2.0 */
/*
 * The one place that fixes the layout of every steering map. The XDP programs
 * (steer.bpf.c) include it; src/steer/layout.ts mirrors it field by field and
 * test/unit/steer/layout.test.ts compiles this header with gcc to check that
 * sizes and offsets agree, so the two sides cannot drift.
 *
 * Conventions (dsahern/bpf-progs): small fixed-layout keys, VLAN ids in host
 * order with 0 meaning "untagged", maps pinned by name so a daemon restart
 * reuses them. Every field is naturally aligned and every struct is padded
 * explicitly: no implicit holes, so a key built in the program and one built
 * by the control plane compare equal byte for byte.
 */
#ifndef IPSEC_OFFLOAD_STEER_H
#define IPSEC_OFFLOAD_STEER_H

#include <linux/types.h>

/* Capacity of each map (max_entries). Changing one makes pinned maps
 * incompatible: the loader refuses to reuse them and says so. */
#define STEER_FDB_MAX 4096
#define STEER_PORT_MAX 256
#define STEER_ESP_MAX 4096
/* steer_stats slots: room for verdicts added later without changing the
 * pinned map's max_entries. */
#define STEER_STAT_SLOTS 32

/* steer_fdb (PERCPU_HASH): where frames for {destination MAC, VLAN} go. */
struct steer_fdb_key {
	__u8 mac[6];
	__u16 vlan; /* VLAN id, host order; 0 = untagged */
};

/* The value is per CPU: the program bumps its own CPU's copy of the
 * counters without atomics or a second lookup; the control plane writes the
 * same ifindex/slot/flags/origin to every CPU's copy and sums the counters. */
struct steer_fdb_val {
	__u32 ifindex;   /* port the frame is redirected to (key in steer_ports) */
	__u16 slot;      /* the port's index in steer_port_stat */
	__u8 flags;      /* STEER_FDB_F_* */
	__u8 origin;     /* STEER_ORIGIN_*: who owns the entry (ignored by the program) */
	__u64 packets;   /* frames this entry redirected */
	__u64 bytes;
};

#define STEER_FDB_F_STRIP 0x01 /* the port is untagged: pop the 802.1Q tag */

#define STEER_ORIGIN_CONFIG 1 /* the daemon's configuration */
#define STEER_ORIGIN_VF 2     /* VF MAC + VLAN read from the PF */
#define STEER_ORIGIN_MANUAL 3 /* `steer add`: kept until `steer del` */

/* steer_port_info (HASH, key: __u32 ifindex): one entry per port, read by
 * the port RX program and the egress program. */
struct steer_port {
	__u8 mac[6];    /* the only source MAC this port may send; all zero = unchecked */
	__u16 vlan;     /* access VLAN (host order): pushed toward the uplink; 0 = trunk */
	__u32 uplink;   /* ifindex the port's frames leave by (key in steer_ports) */
	__u32 slot;     /* index in steer_port_stat */
};

/* steer_ports (DEVMAP_HASH, key: __u32 ifindex, value: struct bpf_devmap_val):
 * the devices frames may be redirected to. The uplink's entry carries the
 * egress program. */

/* steer_esp (PERCPU_HASH): ESP of SAs terminated on this host. A frame the
 * fdb would steer to a port goes to the kernel instead when its
 * {VLAN, destination address, SPI} is here. */
struct steer_esp_key {
	__u16 vlan;      /* host order; 0 = untagged */
	__u8 family;     /* AF_INET (2) or AF_INET6 (10) */
	__u8 pad;        /* always 0 */
	__be32 spi;      /* network order, as on the wire */
	__u8 daddr[16];  /* IPv4: first 4 bytes, the rest 0 */
};

/* Per-CPU counters: the value of steer_esp entries and of steer_stats. */
struct steer_counter {
	__u64 packets;
	__u64 bytes;
};

/* steer_port_stat (PERCPU_ARRAY, STEER_PORT_MAX slots): per port. */
struct steer_port_stats {
	__u64 rx_packets;  /* redirected from the uplink to the port */
	__u64 rx_bytes;
	__u64 tx_packets;  /* sent by the port, checked, transmitted on the uplink */
	__u64 tx_bytes;
	__u64 spoofed;     /* dropped: source MAC is not the port's */
	__u64 tagged;      /* dropped: an access port sent an 802.1Q/802.1ad frame */
};

/* steer_stats (PERCPU_ARRAY, STEER_STAT_SLOTS): one counter per verdict. */
enum steer_stat {
	/* ingress (uplink RX) */
	STEER_STAT_REDIRECT = 0,      /* steered to a port */
	STEER_STAT_PASS_NOT_ETH,      /* shorter than an Ethernet header */
	STEER_STAT_PASS_VLAN,         /* a tag we do not steer: 802.1ad, priority tag, VID 4095, double tag */
	STEER_STAT_PASS_FDB_MISS,     /* {MAC, VLAN} not in the fdb (incl. broadcast, multicast) */
	STEER_STAT_PASS_ETHERTYPE,    /* known MAC, but neither IPv4, IPv6 nor ARP */
	STEER_STAT_PASS_MALFORMED,    /* truncated or inconsistent L3/L4 header */
	STEER_STAT_PASS_FRAGMENT,     /* IPv4 fragment / IPv6 extension header that may hide ESP */
	STEER_STAT_PASS_ESP_LOCAL,    /* ESP of an SA terminated here (steer_esp hit) */
	STEER_STAT_PASS_PORT_MISS,    /* fdb points at a port not in steer_ports */
	STEER_STAT_PASS_ADJUST,       /* could not pop the tag */
	/* port RX (port -> uplink) */
	STEER_STAT_PORT_REDIRECT,     /* handed to the uplink (egress program next) */
	STEER_STAT_PORT_PASS_UNKNOWN, /* received on a device that is not a port */
	STEER_STAT_PORT_PASS_MCAST,   /* broadcast/multicast: left to the stack */
	STEER_STAT_PORT_PASS_MALFORMED,
	STEER_STAT_PORT_PASS_UPLINK,  /* the port's uplink is not in steer_ports */
	/* egress (devmap program on the uplink's entry) */
	STEER_STAT_EGRESS_TX,         /* checked (and tagged) and transmitted */
	STEER_STAT_EGRESS_SPOOF,      /* dropped: source MAC is not the port's */
	STEER_STAT_EGRESS_TAGGED,     /* dropped: tagged frame from an access port */
	STEER_STAT_EGRESS_UNKNOWN,    /* dropped: not sent by a known port */
	STEER_STAT_EGRESS_MALFORMED,  /* dropped: shorter than an Ethernet header */
	STEER_STAT_EGRESS_ADJUST,     /* dropped: no headroom to push the tag */
	STEER_STAT_MAX
};

#endif /* IPSEC_OFFLOAD_STEER_H */
