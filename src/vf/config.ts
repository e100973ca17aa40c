// The `role` key's companions: the `pf:` section (the host that terminates
// its VFs' SAs) and the `vf:` section (the agent beside a tenant's charon),
// embedded in src/daemon/config-schema.ts. Everything the daemon would trip
// over later (two VFs with one if_id, an identity that matches nothing, an
// interface name the kernel refuses) is refused here with the key path.
import { z } from 'zod';
import { duration, ifname, IFNAME_MAX, netnsName } from '../daemon/config-values.js';
import ipaddr from 'ipaddr.js';

const path = z.string().startsWith('/', 'an absolute path');
const mac = z.string().regex(/^([0-9a-fA-F]{2}:){5}[0-9a-fA-F]{2}$/, 'a MAC address like 02:00:00:00:01:01');

/** "10.1.0.0/24" or a bare address (a /32 or /128). */
const prefix = z.string().refine((s) => {
  try {
    const [a, l] = s.includes('/') ? ipaddr.parseCIDR(s) : [ipaddr.parse(s), undefined];
    return l === undefined || l <= (a.kind() === 'ipv4' ? 32 : 128);
  } catch {
    return false;
  }
}, 'an address or prefix like 192.168.10.2 or 10.10.0.0/24');

/** A SHA-256 certificate fingerprint as openssl prints it (colons optional, any case). */
const fingerprint = z
  .string()
  .transform((s) => s.replace(/^sha256:/i, '').replace(/:/g, '').toUpperCase())
  .refine((s) => /^[0-9A-F]{64}$/.test(s), 'a SHA-256 fingerprint: 64 hex digits (openssl x509 -noout -fingerprint -sha256)');

const octalMode = z
  .union([z.number().int(), z.string().regex(/^0?[0-7]{3}$/, 'a file mode like "0660"')])
  .transform((v) => (typeof v === 'number' ? v : parseInt(v, 8)))
  .refine((v) => v >= 0 && v <= 0o777, 'a file mode 0000..0777');

/** How the PF knows a connection is this VF: never from anything the VF says. */
const peerSchema = z
  .object({
    /** a unix-socket peer: its network namespace (and optionally its uid), read by the PF */
    unix: z
      .object({
        /** a name from `ip netns list` */
        netns: netnsName.optional(),
        /** or any netns file (/proc/PID/ns/net of a container's init, a bind mount) */
        netns_path: path.optional(),
        /** the peer process's uid must be this too */
        uid: z.number().int().min(0).optional(),
      })
      .strict()
      .refine((u) => (u.netns === undefined) !== (u.netns_path === undefined), 'give exactly one of netns and netns_path')
      .optional(),
    /** a TLS peer: its client certificate (it must also chain to pf.tls.ca) */
    tls: z
      .object({
        /** the certificate's SHA-256 fingerprint (pins one certificate) */
        fingerprint: fingerprint.optional(),
        /** or its subject CN */
        cn: z.string().min(1).optional(),
      })
      .strict()
      .refine((t) => t.fingerprint !== undefined || t.cn !== undefined, 'give fingerprint or cn')
      .optional(),
  })
  .strict()
  .refine((p) => p.unix !== undefined || p.tls !== undefined, 'give unix or tls: a VF nobody can be is useless');

const VF_NAME = /^[a-z][a-z0-9_-]{0,11}$/;

const vfSchema = z
  .object({
    /** SR-IOV VF index on pf.device: MAC, VLAN and link state come from the PF's VF settings (rtnetlink) */
    vf: z.number().int().min(0).max(65535).optional(),
    /** without `vf` (a container's veth): the domain's MAC and VLAN, as the host configured them */
    mac: mac.optional(),
    vlan: z.number().int().min(0).max(4094).optional(),
    /** XFRM if_id of the VF's SAs, policies and xfrm interface (unique per VF) */
    if_id: z.number().int().min(1).max(0xffffffff),
    /** the VF's xfrm interface; default vf-<name> */
    interface: ifname.optional(),
    /** addresses the VF's SAs and local traffic selectors may use */
    addresses: z.array(prefix).min(1),
    /** SAs (two per CHILD_SA) the VF may have installed; more are refused */
    max_sas: z.number().int().min(2).max(100_000).default(64),
    /** slots of the PF's offload table the VF may use; its other SAs stay in software */
    hw_slots: z.number().int().min(0).max(100_000).default(4),
    peer: peerSchema,
    /** install routes to the VF's remote selectors through its interface in this table */
    route_table: z.number().int().min(1).max(0xffffffff).optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.vf !== undefined && (v.mac !== undefined || v.vlan !== undefined)) {
      ctx.addIssue({ code: 'custom', path: ['mac'], message: 'with vf, MAC and VLAN come from the PF (ip link set PF vf N mac .. vlan ..): leave mac and vlan out' });
    }
  });

export const pfConfigSchema = z
  .object({
    /** the PF netdev: VF settings are read from it and VF SAs offloaded to it */
    device: ifname,
    /** unix socket for agents in containers (identified by network namespace) */
    unix: z
      .object({
        path: path.default('/run/ipsec-offload/vf.sock'),
        /** who may connect at all (identity is still the netns); bind-mount it into the containers */
        mode: octalMode.default(0o660),
      })
      .strict()
      .optional(),
    /** TCP with mutual TLS for agents in VMs (identified by client certificate) */
    tls: z
      .object({
        listen: z.string().default('0.0.0.0'),
        port: z.number().int().min(1).max(65535).default(4510),
        cert: path,
        key: path,
        /** CA that signs the agents' client certificates */
        ca: path,
      })
      .strict()
      .optional(),
    /** agents send a request at least this often */
    heartbeat: duration.default(5000),
    /** an agent silent this long has its SAs removed */
    stale_timeout: duration.default(20_000),
    /** after a daemon restart, VFs whose agent is not back within this are cleaned up */
    restart_grace: duration.default(60_000),
    /** a connection must say hello within this */
    hello_timeout: duration.default(10_000),
    /** the ownership store: which VF owns which SA (no keys), for restarts */
    store: path.default('/var/lib/ipsec-offload/vf-owners.json'),
    /** how often VF settings are re-read (besides rtnetlink events on the PF) */
    vf_poll: duration.default(5000),
    /** how long a removed SA stays retired (never reinstalled from a VF's copy) */
    retire_for: duration.default(24 * 3_600_000),
    /** MTU of the VF interfaces */
    mtu: z.number().int().min(68).max(65535).default(1400),
    vfs: z.record(z.string().regex(VF_NAME, 'a VF name: a lowercase letter, then up to 11 of a-z 0-9 _ -'), vfSchema).default({}),
  })
  .strict()
  .superRefine((c, ctx) => {
    if (!c.unix && !c.tls) ctx.addIssue({ code: 'custom', path: [], message: 'give unix or tls (or both): agents need a way in' });
    const byIfId = new Map<number, string>();
    const byIndex = new Map<number, string>();
    const byIfname = new Map<string, string>();
    const byNetns = new Map<string, string>();
    const byCert = new Map<string, string>();
    for (const [name, v] of Object.entries(c.vfs)) {
      const at = (k: string): (string | number)[] => ['vfs', name, k];
      const clash = (m: Map<string | number, string>, key: string | number, where: (string | number)[], what: string): void => {
        const other = m.get(key);
        if (other !== undefined) ctx.addIssue({ code: 'custom', path: where, message: `${what} is also VF ${other}'s` });
        m.set(key, name);
      };
      clash(byIfId as Map<string | number, string>, v.if_id, at('if_id'), `if_id ${v.if_id}`);
      if (v.vf !== undefined) clash(byIndex as Map<string | number, string>, v.vf, at('vf'), `VF index ${v.vf}`);
      const iface = v.interface ?? `vf-${name}`;
      if (iface.length > IFNAME_MAX) ctx.addIssue({ code: 'custom', path: at('interface'), message: `the default name "${iface}" is longer than ${IFNAME_MAX} characters: give one` });
      clash(byIfname as Map<string | number, string>, iface, at('interface'), `interface ${iface}`);
      const ns = v.peer.unix?.netns ?? v.peer.unix?.netns_path;
      if (ns !== undefined) clash(byNetns as Map<string | number, string>, `${ns}/${v.peer.unix?.uid ?? '*'}`, ['vfs', name, 'peer', 'unix'], `netns ${ns}`);
      const cert = v.peer.tls?.fingerprint ?? (v.peer.tls?.cn !== undefined ? `cn=${v.peer.tls.cn}` : undefined);
      if (cert !== undefined) clash(byCert as Map<string | number, string>, cert, ['vfs', name, 'peer', 'tls'], 'this certificate');
      if (v.peer.unix && !c.unix) ctx.addIssue({ code: 'custom', path: ['vfs', name, 'peer', 'unix'], message: 'pf.unix is not configured' });
      if (v.peer.tls && !c.tls) ctx.addIssue({ code: 'custom', path: ['vfs', name, 'peer', 'tls'], message: 'pf.tls is not configured' });
      if (v.hw_slots > v.max_sas) ctx.addIssue({ code: 'custom', path: at('hw_slots'), message: `more hardware slots (${v.hw_slots}) than SAs allowed (${v.max_sas})` });
    }
    if (c.heartbeat * 2 > c.stale_timeout) ctx.addIssue({ code: 'custom', path: ['stale_timeout'], message: 'must be at least twice the heartbeat interval (one lost heartbeat must not clean a VF up)' });
  });

export const vfAgentConfigSchema = z
  .object({
    /** where the PF listens: its unix socket, or host and port with mutual TLS (with both, unix is used) */
    pf: z
      .object({
        unix: path.optional(),
        tls: z
          .object({
            host: z.string().min(1),
            port: z.number().int().min(1).max(65535).default(4510),
            cert: path,
            key: path,
            ca: path,
            /** the name in the PF's certificate, when it is not host */
            servername: z.string().min(1).optional(),
          })
          .strict()
          .optional(),
      })
      .strict()
      .refine((p) => p.unix !== undefined || p.tls !== undefined, 'give unix or tls (with both, unix is used)'),
    /** a request unanswered this long ends the connection (it is reopened) */
    request_timeout: duration.default(10_000),
    /** reconnect delays: from min, doubling up to max */
    reconnect_min: duration.default(500),
    reconnect_max: duration.default(10_000),
  })
  .strict();

export type PfConfig = z.output<typeof pfConfigSchema>;
export type PfVfConfig = PfConfig['vfs'][string];
export type VfAgentConfig = z.output<typeof vfAgentConfigSchema>;
export type Role = 'host' | 'pf' | 'vf';

export const roleSchema = z.enum(['host', 'pf', 'vf']).default('host');

/** The VF interface's name. */
export function vfInterfaceName(name: string, v: Pick<PfVfConfig, 'interface'>): string {
  return v.interface ?? `vf-${name}`;
}

interface RoleView {
  role: Role;
  pf?: unknown;
  vf?: unknown;
  offload: { default: boolean; rules: { offload: boolean }[] };
}

/**
 * Cross-section rules of the role (refinement of the whole config): each role
 * needs its section; an agent never offloads its tenant's SAs itself (the PF
 * does), so `vf` refuses offload settings that would.
 */
export function roleProblems(c: RoleView): { path: string[]; message: string }[] {
  const out: { path: string[]; message: string }[] = [];
  if (c.role === 'pf' && c.pf === undefined) out.push({ path: ['pf'], message: 'role pf needs a pf: section' });
  if (c.role === 'vf' && c.vf === undefined) out.push({ path: ['vf'], message: 'role vf needs a vf: section' });
  if (c.role === 'vf' && (c.offload.default || c.offload.rules.some((r) => r.offload))) {
    out.push({ path: ['offload', 'default'], message: 'role vf: the PF offloads the tenant\'s SAs; set offload.default: false and no rule with offload: true' });
  }
  return out;
}
