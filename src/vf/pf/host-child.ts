// What the host installs for one VF CHILD_SA, and whether it may: the pure
// heart of sa.add. The SAs are rebuilt field by field from what the tenant
// sent (never passed through): ESP, tunnel mode, the VF's if_id, a host reqid,
// no mark, no offload (software first; the planner promotes), keys and replay
// state as charon set them, nothing else the tenant could slip in. The
// policies come from the traffic selectors, never from the tenant's kernel.
import { EMPTY_SELECTOR, type XfrmSelector } from '../../xfrm/model.js';
import { makeState, type XfrmState } from '../../xfrm/state.js';
import { makePolicy, template, type XfrmPolicy } from '../../xfrm/policy.js';
import type { ChildSpec } from '../protocol/codec.js';
import type { TrafficSelector } from '../protocol/attributes.js';
import type { ReasonName } from '../protocol/constants.js';
import { coversPrefix, containsAddress, parsePrefix, type Prefix } from './prefixes.js';
import { indexOf, isRetired, type Family, type OwnedChild, type OwnedPolicy, type OwnedSa, type Ownership } from './ownership.js';

const XFRM_MODE_TUNNEL = 1;
const ESN = 'esn';

/** What the PF allows one VF (from its config, never from the VF). */
export interface VfAllowance {
  name: string;
  ifId: number;
  addresses: readonly Prefix[];
  maxSas: number;
  /** routes to the remote selectors go in this table */
  routeTable?: number;
}

export type Authorization =
  /** the same CHILD_SA is installed already: nothing to do */
  | { ok: true; present: true }
  | { ok: true; present: false; sas: { in: XfrmState; out: XfrmState }; record: OwnedChild }
  | { ok: false; reason: ReasonName; message: string };

const refuse = (reason: ReasonName, message: string): Authorization => ({ ok: false, reason, message });

export interface AuthorizeInput {
  vf: VfAllowance;
  child: ChildSpec;
  ownership: Ownership;
  now: number;
  /** the host reqid (allocated only when the CHILD_SA is accepted) */
  reqid: () => number;
}

const hex = (spi: number): string => `0x${(spi >>> 0).toString(16).padStart(8, '0')}`;

export function authorizeChild(i: AuthorizeInput): Authorization {
  const { vf, child: c } = i;
  const own = i.ownership.vfs.get(vf.name);
  const index = indexOf(i.ownership);
  const sin = c.saIn;
  const sout = c.saOut;

  const existing = own?.children.get(c.uniqueid);
  if (existing) {
    const same = existing.sas.some((s) => s.dir === 'in' && s.spi === sin.spi && s.daddr === sin.daddr) && existing.sas.some((s) => s.dir === 'out' && s.spi === sout.spi && s.daddr === sout.daddr);
    return same ? { ok: true, present: true } : refuse('duplicate', `CHILD_SA #${c.uniqueid} is installed with other SAs (sa.del it first)`);
  }

  if (c.mode !== XFRM_MODE_TUNNEL || sin.mode !== 'tunnel' || sout.mode !== 'tunnel') {
    return refuse('unsupported', 'only tunnel-mode CHILD_SAs can be terminated on the host for a VF');
  }
  for (const [dir, s] of [['in', sin], ['out', sout]] as const) {
    if (s.proto !== 'esp') return refuse('unsupported', `${dir} SA: protocol ${String(s.proto)} (only ESP)`);
    if (s.spi === 0) return refuse('unsupported', `${dir} SA: SPI 0`);
    if (s.encap) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: UDP encapsulation (NAT-T) cannot be terminated on the host`);
    if (s.comp) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: IPcomp`);
    if (!s.aead && !s.crypt) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: no encryption algorithm`);
    if (s.aead && (s.crypt || s.auth)) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: AEAD together with other algorithms`);
    if (s.secCtx) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: security labels`);
    if (s.reqid !== c.reqid) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: reqid ${s.reqid} is not the CHILD_SA's ${c.reqid}`);
    if (s.flags.includes(ESN) && !s.esn) return refuse('unsupported', `${dir} SA ${hex(s.spi)}: ESN without ESN replay state`);
  }
  if (sin.family !== sout.family || sin.daddr !== sout.saddr || sin.saddr !== sout.daddr) {
    return refuse('unsupported', 'the inbound and outbound SA do not connect the same two addresses');
  }
  const family: Family = sin.family;
  const local = sin.daddr;
  if (!vf.addresses.some((p) => containsAddress(p, local))) return refuse('address-not-allowed', `${local} is not an address of VF ${vf.name}`);
  const localTs = c.localTs.map((t) => ({ t, p: tsPrefix(t) }));
  for (const { t, p } of localTs) {
    if (!p || !vf.addresses.some((a) => coversPrefix(a, p))) return refuse('address-not-allowed', `local selector ${tsText(t)} is outside VF ${vf.name}'s addresses`);
  }

  if (index.saCount(vf.name) + 2 > vf.maxSas) return refuse('quota', `VF ${vf.name} has ${index.saCount(vf.name)} of its ${vf.maxSas} SAs`);

  const ids: OwnedSa[] = [
    { dir: 'in', family, daddr: sin.daddr, saddr: sin.saddr, spi: sin.spi },
    { dir: 'out', family, daddr: sout.daddr, saddr: sout.saddr, spi: sout.spi },
  ];
  for (const s of ids) {
    if (isRetired(own, s, i.now)) return refuse('retired', `SA ${hex(s.spi)} to ${s.daddr} was installed before; it is never installed again from the tenant's copy: rekey CHILD_SA #${c.uniqueid}`);
    const h = index.holderOf(s);
    if (h) return refuse('spi-collision', h.vf === vf.name ? `SA ${hex(s.spi)} to ${s.daddr} belongs to CHILD_SA #${h.uniqueid}` : `SA ${hex(s.spi)} to ${s.daddr} belongs to another VF`);
  }

  const selectors = selectorPairs(c.localTs, c.remoteTs);
  if (!selectors.ok) return refuse('unsupported', selectors.message);

  const reqid = i.reqid();
  const policies: OwnedPolicy[] = selectors.pairs.flatMap(({ out, back }) => [
    { dir: 'out' as const, selector: out },
    { dir: 'in' as const, selector: back },
    { dir: 'fwd' as const, selector: back },
  ]);
  const sharing = index.inboundSpiUsers(sin.spi, vf.name);
  const record: OwnedChild = {
    uniqueid: c.uniqueid,
    name: c.name,
    ike: c.ike,
    reqid,
    tenantReqid: c.reqid,
    sas: ids,
    policies,
    routes: vf.routeTable !== undefined ? [...new Set(c.remoteTs.map((t) => tsPrefix(t)?.text).filter((x): x is string => x !== undefined))] : [],
    ...(sharing.length ? { software: 'spi-collision' as const } : {}),
    installedAt: i.now,
  };
  return { ok: true, present: false, sas: { in: hostState(sin, vf.ifId, reqid), out: hostState(sout, vf.ifId, reqid) }, record };
}

/**
 * The host's copy of a tenant SA: only the fields that make the SA, rebuilt.
 * The keys are the same SecretBytes (the caller wipes them once installed).
 */
export function hostState(s: XfrmState, ifId: number, reqid: number): XfrmState {
  const esn = s.flags.includes(ESN) && s.esn;
  return makeState({
    family: s.family,
    saddr: s.saddr,
    daddr: s.daddr,
    spi: s.spi,
    proto: 'esp',
    mode: 'tunnel',
    reqid,
    flags: esn ? [ESN] : [],
    replayWindow: esn ? 0 : Math.min(s.replayWindow, 32),
    selector: EMPTY_SELECTOR,
    lifetime: { ...s.lifetime },
    ...(s.aead ? { aead: { name: s.aead.name, key: s.aead.key, icvBits: s.aead.icvBits, ...(s.aead.keyBits !== undefined ? { keyBits: s.aead.keyBits } : {}) } } : {}),
    ...(s.crypt ? { crypt: { name: s.crypt.name, key: s.crypt.key, ...(s.crypt.keyBits !== undefined ? { keyBits: s.crypt.keyBits } : {}) } } : {}),
    ...(s.auth ? { auth: { name: s.auth.name, key: s.auth.key, ...(s.auth.keyBits !== undefined ? { keyBits: s.auth.keyBits } : {}), ...(s.auth.truncBits !== undefined ? { truncBits: s.auth.truncBits } : {}) } } : {}),
    ...(esn && s.esn ? { esn: { ...s.esn, bitmap: [...s.esn.bitmap] } } : s.replay ? { replay: { ...s.replay } } : {}),
    ...(s.tfcpad !== undefined && s.tfcpad > 0 ? { tfcpad: s.tfcpad } : {}),
    ifId,
  });
}

export function tsPrefix(t: TrafficSelector): Prefix | undefined {
  const p = parsePrefix(`${t.address}/${t.prefixlen}`);
  return p && (p.family === 4) === (t.family === 2) ? p : undefined;
}

export function tsText(t: TrafficSelector): string {
  const ports = t.fromPort === 0 && t.toPort === 0xffff ? '' : t.fromPort === t.toPort ? `/${t.fromPort}` : `/${t.fromPort}-${t.toPort}`;
  return `${t.address}/${t.prefixlen}${t.proto || ports ? `[${t.proto}${ports}]` : ''}`;
}

/** A port range as the kernel selector's port + mask (one port, an aligned block, or any). */
export function portMask(from: number, to: number): { port: number; mask: number } | undefined {
  if (from === 0 && to === 0xffff) return { port: 0, mask: 0 };
  const size = to - from + 1;
  if (size > 0 && (size & (size - 1)) === 0 && (from & (size - 1)) === 0) return { port: from, mask: (0xffff & ~(size - 1)) >>> 0 };
  return undefined;
}

type Pairs = { ok: true; pairs: { out: XfrmSelector; back: XfrmSelector }[] } | { ok: false; message: string };

/** Selectors for every (local, remote) pair of one family and compatible protocol. */
export function selectorPairs(localTs: readonly TrafficSelector[], remoteTs: readonly TrafficSelector[]): Pairs {
  const pairs: { out: XfrmSelector; back: XfrmSelector }[] = [];
  for (const l of localTs) {
    for (const r of remoteTs) {
      if (l.family !== r.family) continue;
      if (l.proto && r.proto && l.proto !== r.proto) continue;
      const lp = portMask(l.fromPort, l.toPort);
      const rp = portMask(r.fromPort, r.toPort);
      if (!lp || !rp) return { ok: false, message: `port range of ${tsText(lp ? r : l)} is not one port, an aligned block, or all ports` };
      const lpre = tsPrefix(l);
      const rpre = tsPrefix(r);
      if (!lpre || !rpre) return { ok: false, message: `selector ${tsText(lpre ? r : l)} is not a prefix` };
      const proto = l.proto || r.proto;
      const family = l.family === 2 ? 'ipv4' : 'ipv6';
      const sel = (src: Prefix, sp: { port: number; mask: number }, dst: Prefix, dp: { port: number; mask: number }): XfrmSelector => ({
        family,
        saddr: src.text.split('/')[0] as string,
        prefixlenS: src.length,
        daddr: dst.text.split('/')[0] as string,
        prefixlenD: dst.length,
        proto,
        sport: sp.port,
        sportMask: sp.mask,
        dport: dp.port,
        dportMask: dp.mask,
        ifindex: 0,
        user: 0,
      });
      pairs.push({ out: sel(lpre, lp, rpre, rp), back: sel(rpre, rp, lpre, lp) });
    }
  }
  if (pairs.length === 0) return { ok: false, message: 'no pair of local and remote selectors of one address family' };
  return { ok: true, pairs };
}

/**
 * The kernel policy: more specific selectors get a lower number (higher
 * priority), as charon orders its own; templates name the SA by its
 * addresses and the host reqid, within the VF's if_id.
 */
export function hostPolicy(p: OwnedPolicy, c: Pick<OwnedChild, 'reqid' | 'sas'>, ifId: number): XfrmPolicy {
  const sa = c.sas.find((s) => s.dir === (p.dir === 'out' ? 'out' : 'in')) as OwnedSa;
  const s = p.selector;
  const priority = 200_000 - (s.prefixlenS + s.prefixlenD) * 512 - (s.proto ? 256 : 0) - (s.sportMask ? 64 : 0) - (s.dportMask ? 64 : 0);
  return makePolicy({
    selector: s,
    dir: p.dir,
    priority,
    ifId,
    templates: [template({ family: sa.family, saddr: sa.saddr, daddr: sa.daddr, proto: 'esp', mode: 'tunnel', reqid: c.reqid })],
  });
}
