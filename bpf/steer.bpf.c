// SPDX-License-Identifier: GPL-2.0
/*
 * VLAN + destination-MAC steering for an uplink, ESP-aware.
 *
 *   steer_ingress  XDP on the uplink: {dst MAC, VLAN} -> port (steer_fdb),
 *                  redirect through steer_ports, popping the tag toward an
 *                  untagged port. ESP of SAs terminated on this host
 *                  (steer_esp) goes to the kernel even when the fdb matches.
 *   steer_port_rx  XDP on each port: unicast from a known port is handed to
 *                  the port's uplink through steer_ports.
 *   steer_egress   devmap program of the uplink's steer_ports entry: every
 *                  frame a port sends to the uplink passes here; the source
 *                  MAC must be the port's (anti-spoof) and the port's access
 *                  VLAN is pushed.
 *
 * Only known, well-formed traffic takes the fast path. Everything else is
 * XDP_PASS to the stack (which remains the complete, working path); nothing
 * truncated or malformed is ever redirected. Map layouts: steer.h.
 */
#include <linux/bpf.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#include "steer.h"

#define AF_INET 2
#define AF_INET6 10
#define ETH_P_8021AD_ 0x88A8
#define VLAN_HLEN 4
#define VLAN_VID_MASK 0x0fff
#define IPV4_FRAG_MASK 0x3fff /* MF | fragment offset */
#define NAT_T_PORT 4500
#define IPPROTO_ESP_ 50

struct vlan_hdr {
	__be16 tci;
	__be16 proto;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, STEER_FDB_MAX);
	__type(key, struct steer_fdb_key);
	__type(value, struct steer_fdb_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_fdb SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP_HASH);
	__uint(max_entries, STEER_PORT_MAX);
	__type(key, __u32);
	__type(value, struct bpf_devmap_val);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_ports SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, STEER_PORT_MAX);
	__type(key, __u32);
	__type(value, struct steer_port);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_port_info SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, STEER_ESP_MAX);
	__type(key, struct steer_esp_key);
	__type(value, struct steer_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_esp SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_STAT_SLOTS);
	__type(key, __u32);
	__type(value, struct steer_counter);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STEER_PORT_MAX);
	__type(key, __u32);
	__type(value, struct steer_port_stats);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} steer_port_stat SEC(".maps");

_Static_assert(STEER_STAT_MAX <= STEER_STAT_SLOTS, "steer_stats has too few slots");
_Static_assert(sizeof(struct steer_fdb_key) == 8, "fdb key is 8 bytes");

static __always_inline int count(__u32 stat, __u64 bytes, int verdict)
{
	struct steer_counter *c = bpf_map_lookup_elem(&steer_stats, &stat);

	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
	return verdict;
}

/* Pops the 802.1Q tag: dst+src MAC move 4 bytes up over the tag, the
 * encapsulated EtherType is already where the outer one was. */
static __always_inline int vlan_pop(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u8 macs[12];

	if (data + sizeof(struct ethhdr) + VLAN_HLEN > data_end)
		return -1;
	__builtin_memcpy(macs, data, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, VLAN_HLEN))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	__builtin_memcpy(data, macs, sizeof(macs));
	return 0;
}

/* Pushes an 802.1Q tag with VLAN id `vlan` (PCP 0) after the MACs. */
static __always_inline int vlan_push(struct xdp_md *ctx, __u16 vlan)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	struct vlan_hdr *vh;
	__u8 macs[12];

	if (data + sizeof(struct ethhdr) > data_end)
		return -1;
	__builtin_memcpy(macs, data, sizeof(macs));
	if (bpf_xdp_adjust_head(ctx, -VLAN_HLEN))
		return -1;
	data = (void *)(long)ctx->data;
	data_end = (void *)(long)ctx->data_end;
	if (data + sizeof(struct ethhdr) + VLAN_HLEN > data_end)
		return -1;
	__builtin_memcpy(data, macs, sizeof(macs));
	*(__be16 *)(data + 12) = bpf_htons(ETH_P_8021Q);
	vh = data + 14;
	vh->tci = bpf_htons(vlan & VLAN_VID_MASK);
	/* vh->proto: the frame's own EtherType, already in place */
	return 0;
}

enum esp_check {
	ESP_NO = 0,    /* not ESP of a local SA: the fdb decides */
	ESP_LOCAL,     /* ESP of an SA terminated here */
	ESP_MALFORMED, /* truncated or inconsistent */
	ESP_FRAGMENT,  /* cannot tell: fragment / extension header */
	ESP_SPI,       /* ESP: *spi is set, steer_esp decides */
};

/* Is l4 ESP or ESP-in-UDP (RFC 3948: port 4500; a zero non-ESP marker means
 * IKE, a payload shorter than an SPI is a NAT keepalive)? Sets *spi. */
static __always_inline int esp_spi(void *l4, void *data_end, __u8 proto, __be32 *spi)
{
	if (proto == IPPROTO_ESP_) {
		if (l4 + sizeof(__be32) > data_end)
			return ESP_MALFORMED;
		*spi = *(__be32 *)l4;
		return ESP_SPI;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		__u16 len;

		if ((void *)(udp + 1) > data_end)
			return ESP_MALFORMED;
		if (udp->dest != bpf_htons(NAT_T_PORT))
			return ESP_NO;
		len = bpf_ntohs(udp->len);
		if (len < sizeof(*udp))
			return ESP_MALFORMED;
		if (len < sizeof(*udp) + sizeof(__be32))
			return ESP_NO; /* keepalive */
		if ((void *)(udp + 1) + sizeof(__be32) > data_end)
			return ESP_MALFORMED;
		*spi = *(__be32 *)(udp + 1);
		if (*spi == 0)
			return ESP_NO; /* non-ESP marker: IKE */
		return ESP_SPI;
	}
	return ESP_NO;
}

/* IPv4 at l3: well-formed? ESP for this host? */
/* An SA terminated here: count the hit on its entry (per CPU). */
static __always_inline int esp_lookup(struct steer_esp_key *key, __u64 bytes)
{
	struct steer_counter *c = bpf_map_lookup_elem(&steer_esp, key);

	if (!c)
		return ESP_NO;
	c->packets++;
	c->bytes += bytes;
	return ESP_LOCAL;
}

static __always_inline int check_ipv4(void *l3, void *data_end, __u16 vlan, __u64 bytes)
{
	struct iphdr *ip = l3;
	struct steer_esp_key key;
	__u32 ihl, tot;
	int r;

	if ((void *)(ip + 1) > data_end)
		return ESP_MALFORMED;
	ihl = ip->ihl * 4;
	tot = bpf_ntohs(ip->tot_len);
	/* Compare lengths as scalars: the 6.1 verifier loses the bounds of a
	 * byte-swapped value, so data + tot would be refused. */
	if (ip->version != 4 || ihl < sizeof(*ip) || tot < ihl || tot > (__u64)(data_end - l3))
		return ESP_MALFORMED;
	if (ip->protocol != IPPROTO_ESP_ && ip->protocol != IPPROTO_UDP)
		return ESP_NO;
	if (ip->frag_off & bpf_htons(IPV4_FRAG_MASK))
		return ESP_FRAGMENT;
	__builtin_memset(&key, 0, sizeof(key));
	r = esp_spi(l3 + ihl, data_end, ip->protocol, &key.spi);
	if (r != ESP_SPI)
		return r;
	key.vlan = vlan;
	key.family = AF_INET;
	__builtin_memcpy(key.daddr, &ip->daddr, 4);
	return esp_lookup(&key, bytes);
}

static __always_inline int check_ipv6(void *l3, void *data_end, __u16 vlan, __u64 bytes)
{
	struct ipv6hdr *ip6 = l3;
	struct steer_esp_key key;
	int r;

	if ((void *)(ip6 + 1) > data_end)
		return ESP_MALFORMED;
	if (ip6->version != 6 || sizeof(*ip6) + bpf_ntohs(ip6->payload_len) > (__u64)(data_end - l3))
		return ESP_MALFORMED;
	switch (ip6->nexthdr) {
	case IPPROTO_ESP_:
	case IPPROTO_UDP:
		break;
	case 0:   /* hop-by-hop */
	case 43:  /* routing */
	case 44:  /* fragment */
	case 51:  /* AH */
	case 60:  /* destination options */
	case 135: /* mobility */
	case 139: /* HIP */
	case 140: /* shim6 */
	case 253:
	case 254: /* experiments */
		return ESP_FRAGMENT;
	default:
		return ESP_NO;
	}
	__builtin_memset(&key, 0, sizeof(key));
	r = esp_spi(ip6 + 1, data_end, ip6->nexthdr, &key.spi);
	if (r != ESP_SPI)
		return r;
	key.vlan = vlan;
	key.family = AF_INET6;
	__builtin_memcpy(key.daddr, &ip6->daddr, 16);
	return esp_lookup(&key, bytes);
}

SEC("xdp")
int steer_ingress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	struct ethhdr *eth = data;
	struct steer_fdb_key key;
	struct steer_fdb_val *fdb;
	struct steer_port_stats *ps;
	void *l3 = eth + 1;
	__u16 proto;
	__u32 slot;
	int tagged = 0, r, act;

	if (l3 > data_end)
		return count(STEER_STAT_PASS_NOT_ETH, bytes, XDP_PASS);
	proto = eth->h_proto;
	key.vlan = 0;
	if (proto == bpf_htons(ETH_P_8021Q)) {
		struct vlan_hdr *vh = l3;

		if ((void *)(vh + 1) > data_end)
			return count(STEER_STAT_PASS_MALFORMED, bytes, XDP_PASS);
		key.vlan = bpf_ntohs(vh->tci) & VLAN_VID_MASK;
		proto = vh->proto;
		l3 = vh + 1;
		tagged = 1;
		/* VID 0 is a priority tag, 4095 reserved; a second tag is QinQ. */
		if (key.vlan == 0 || key.vlan == VLAN_VID_MASK || proto == bpf_htons(ETH_P_8021Q) ||
		    proto == bpf_htons(ETH_P_8021AD_))
			return count(STEER_STAT_PASS_VLAN, bytes, XDP_PASS);
	} else if (proto == bpf_htons(ETH_P_8021AD_)) {
		return count(STEER_STAT_PASS_VLAN, bytes, XDP_PASS);
	}

	__builtin_memcpy(key.mac, eth->h_dest, 6);
	fdb = bpf_map_lookup_elem(&steer_fdb, &key);
	if (!fdb)
		return count(STEER_STAT_PASS_FDB_MISS, bytes, XDP_PASS);

	if (proto == bpf_htons(ETH_P_IP))
		r = check_ipv4(l3, data_end, key.vlan, bytes);
	else if (proto == bpf_htons(ETH_P_IPV6))
		r = check_ipv6(l3, data_end, key.vlan, bytes);
	else if (proto == bpf_htons(ETH_P_ARP))
		r = l3 + 28 > data_end ? ESP_MALFORMED : ESP_NO;
	else
		return count(STEER_STAT_PASS_ETHERTYPE, bytes, XDP_PASS);
	if (r == ESP_MALFORMED)
		return count(STEER_STAT_PASS_MALFORMED, bytes, XDP_PASS);
	if (r == ESP_FRAGMENT)
		return count(STEER_STAT_PASS_FRAGMENT, bytes, XDP_PASS);
	if (r == ESP_LOCAL)
		return count(STEER_STAT_PASS_ESP_LOCAL, bytes, XDP_PASS);

	/* Sets the redirect target, or returns XDP_PASS if the port is not in
	 * steer_ports; nothing is sent before we return. */
	act = bpf_redirect_map(&steer_ports, fdb->ifindex, XDP_PASS);
	if (act != XDP_REDIRECT)
		return count(STEER_STAT_PASS_PORT_MISS, bytes, XDP_PASS);
	if (tagged && (fdb->flags & STEER_FDB_F_STRIP) && vlan_pop(ctx))
		return count(STEER_STAT_PASS_ADJUST, bytes, XDP_PASS);

	fdb->packets++;
	fdb->bytes += bytes;
	slot = fdb->slot;
	ps = bpf_map_lookup_elem(&steer_port_stat, &slot);
	if (ps) {
		ps->rx_packets++;
		ps->rx_bytes += bytes;
	}
	return count(STEER_STAT_REDIRECT, bytes, XDP_REDIRECT);
}

SEC("xdp")
int steer_port_rx(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	__u32 ifindex = ctx->ingress_ifindex;
	struct ethhdr *eth = data;
	struct steer_port *port;

	port = bpf_map_lookup_elem(&steer_port_info, &ifindex);
	if (!port)
		return count(STEER_STAT_PORT_PASS_UNKNOWN, bytes, XDP_PASS);
	if ((void *)(eth + 1) > data_end)
		return count(STEER_STAT_PORT_PASS_MALFORMED, bytes, XDP_PASS);
	if (eth->h_dest[0] & 1)
		return count(STEER_STAT_PORT_PASS_MCAST, bytes, XDP_PASS);
	if (bpf_redirect_map(&steer_ports, port->uplink, XDP_PASS) != XDP_REDIRECT)
		return count(STEER_STAT_PORT_PASS_UPLINK, bytes, XDP_PASS);
	return count(STEER_STAT_PORT_REDIRECT, bytes, XDP_REDIRECT);
}

static __always_inline int mac_set(const __u8 *m)
{
	const __u16 *a = (const __u16 *)m;

	return (a[0] | a[1] | a[2]) != 0;
}

static __always_inline int mac_equal(const __u8 *m, const __u8 *n)
{
	const __u16 *a = (const __u16 *)m, *b = (const __u16 *)n;

	return ((a[0] ^ b[0]) | (a[1] ^ b[1]) | (a[2] ^ b[2])) == 0;
}

/* In a devmap program XDP_PASS means "transmit", XDP_DROP drops. */
SEC("xdp/devmap")
int steer_egress(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *data_end = (void *)(long)ctx->data_end;
	__u64 bytes = data_end - data;
	__u32 ifindex = ctx->ingress_ifindex;
	struct ethhdr *eth = data;
	struct steer_port_stats *ps;
	struct steer_port *port;
	__u16 vlan;
	__u32 slot;

	port = bpf_map_lookup_elem(&steer_port_info, &ifindex);
	if (!port)
		return count(STEER_STAT_EGRESS_UNKNOWN, bytes, XDP_DROP);
	if ((void *)(eth + 1) > data_end)
		return count(STEER_STAT_EGRESS_MALFORMED, bytes, XDP_DROP);
	slot = port->slot;
	vlan = port->vlan;
	ps = bpf_map_lookup_elem(&steer_port_stat, &slot);

	/* Anti-spoof, unless the port has no MAC (all zero). Three 16-bit
	 * compares: h_source sits at offset 6, 2-byte aligned. */
	if (mac_set(port->mac) && !mac_equal(port->mac, eth->h_source)) {
		if (ps)
			ps->spoofed++;
		return count(STEER_STAT_EGRESS_SPOOF, bytes, XDP_DROP);
	}
	if (vlan) {
		/* An access port never sends tags of its own (VLAN hopping). */
		if (eth->h_proto == bpf_htons(ETH_P_8021Q) || eth->h_proto == bpf_htons(ETH_P_8021AD_)) {
			if (ps)
				ps->tagged++;
			return count(STEER_STAT_EGRESS_TAGGED, bytes, XDP_DROP);
		}
		if (vlan_push(ctx, vlan))
			return count(STEER_STAT_EGRESS_ADJUST, bytes, XDP_DROP);
	}
	if (ps) {
		ps->tx_packets++;
		ps->tx_bytes += bytes;
	}
	return count(STEER_STAT_EGRESS_TX, bytes, XDP_PASS);
}

char _license[] SEC("license") = "GPL";
