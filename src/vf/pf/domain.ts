// A VF domain's kernel objects besides its SAs: its xfrm interface (if_id =
// the VF's; marked ours by an alias naming the VF), its policies (always
// carrying the VF's if_id) and the routes to its remote selectors through
// that interface. Every removal touches only what is provably ours.
import type { LinkClient } from '../../link/client.js';
import type { Link } from '../../link/link-view.js';
import { NetlinkError } from '../../netlink/errors.js';
import type { XfrmClient } from '../../xfrm/client.js';
import { hostPolicy } from './host-child.js';
import type { OwnedChild, OwnedPolicy } from './ownership.js';

const ENOENT = 2;
const ESRCH = 3;
const ENODEV = 19;

/** rtm_protocol of the routes we install for VFs (the xfrm interface module uses 158). */
export const VF_ROUTE_PROTOCOL = 159;

export const vfAlias = (vf: string): string => `ipsec-offload:vf:${vf}`;

export function isOurVfInterface(l: Link, vf: string, ifId: number): boolean {
  return l.kind === 'xfrm' && l.xfrm?.ifId === ifId && l.alias === vfAlias(vf);
}

/** A change the kernel refused (or a name taken by something that is not ours). */
export class VfDomainError extends Error {
  override readonly name = 'VfDomainError';
  constructor(
    readonly vf: string,
    readonly op: string,
    reason: string,
  ) {
    super(`VF ${vf}: ${op}: ${reason}`);
  }
}

const errText = (e: unknown): string => (e instanceof NetlinkError ? `${e.code}${e.extack ? ` ${e.extack}` : ''}` : (e as Error).message);
const isErrno = (e: unknown, ...n: number[]): boolean => e instanceof NetlinkError && n.includes(e.errno);

export class VfDomains {
  constructor(
    private readonly links: LinkClient,
    private readonly xfrm: XfrmClient,
    private readonly mtu: number,
  ) {}

  /** The VF's interface, created (or adopted, when ours) and up; its ifindex. Throws VfDomainError. */
  async ensureInterface(vf: string, name: string, ifId: number): Promise<{ ifindex: number; created: boolean }> {
    let l: Link | undefined;
    try {
      l = await this.links.findLink(name);
    } catch (e) {
      throw new VfDomainError(vf, `read ${name}`, errText(e));
    }
    if (l) {
      if (!isOurVfInterface(l, vf, ifId)) throw new VfDomainError(vf, `interface ${name}`, `the name is taken by ${l.kind ?? 'a device'} (ifindex ${l.index}) that is not this VF's: left alone`);
      if (!l.up) await this.links.setUp(l.index).catch((e: unknown) => Promise.reject(new VfDomainError(vf, `set ${name} up`, errText(e))));
      return { ifindex: l.index, created: false };
    }
    let created: Link;
    try {
      created = await this.links.createXfrm(name, { ifId });
    } catch (e) {
      throw new VfDomainError(vf, `create ${name} (if_id ${ifId})`, errText(e));
    }
    try {
      await this.links.setAlias(created.index, vfAlias(vf));
      if (created.mtu !== this.mtu) await this.links.setMtu(created.index, this.mtu);
      await this.links.setUp(created.index);
    } catch (e) {
      // Unmarked it would look foreign to us forever: take it back.
      await this.links.deleteLink(created.index).catch(() => undefined);
      throw new VfDomainError(vf, `set up ${name}`, errText(e));
    }
    return { ifindex: created.index, created: true };
  }

  /** Deletes the VF's interface if it is there and ours; whether it was removed. */
  async removeInterface(vf: string, name: string, ifId: number): Promise<boolean> {
    const l = await this.links.findLink(name).catch(() => undefined);
    if (!l || !isOurVfInterface(l, vf, ifId)) return false;
    try {
      await this.links.deleteLink(l.index);
      return true;
    } catch (e) {
      if (isErrno(e, ENODEV)) return false;
      throw new VfDomainError(vf, `delete ${name}`, errText(e));
    }
  }

  /** Adds (or replaces with the same) each policy; throws VfDomainError naming the first the kernel refused. */
  async addPolicies(vf: string, ps: readonly OwnedPolicy[], c: Pick<OwnedChild, 'reqid' | 'sas'>, ifId: number): Promise<void> {
    for (const p of ps) {
      try {
        await this.xfrm.updatePolicy(hostPolicy(p, c, ifId));
      } catch (e) {
        throw new VfDomainError(vf, `policy ${p.dir} ${p.selector.saddr}/${p.selector.prefixlenS} -> ${p.selector.daddr}/${p.selector.prefixlenD}`, errText(e));
      }
    }
  }

  /** Deletes policies (absent ones count as deleted); how many were there. */
  async removePolicies(vf: string, ps: readonly OwnedPolicy[], ifId: number): Promise<number> {
    let n = 0;
    for (const p of ps) {
      try {
        await this.xfrm.deletePolicy({ selector: p.selector, dir: p.dir, ifId });
        n++;
      } catch (e) {
        if (!isErrno(e, ENOENT, ESRCH)) throw new VfDomainError(vf, `delete policy ${p.dir}`, errText(e));
      }
    }
    return n;
  }

  async addRoutes(vf: string, dsts: readonly string[], ifindex: number, table: number): Promise<void> {
    for (const dst of dsts) {
      try {
        await this.links.replaceRoute({ dst, dev: ifindex, table, protocol: VF_ROUTE_PROTOCOL });
      } catch (e) {
        throw new VfDomainError(vf, `route ${dst} table ${table}`, errText(e));
      }
    }
  }

  async removeRoutes(vf: string, dsts: readonly string[], ifindex: number, table: number): Promise<void> {
    for (const dst of dsts) {
      try {
        await this.links.deleteRoute({ dst, dev: ifindex, table, protocol: VF_ROUTE_PROTOCOL });
      } catch (e) {
        if (!isErrno(e, ESRCH, ENODEV, ENOENT)) throw new VfDomainError(vf, `delete route ${dst}`, errText(e));
      }
    }
  }
}
