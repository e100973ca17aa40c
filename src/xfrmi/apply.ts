// Carries out one planned action over rtnetlink and logs what happened.
// An interface is marked ours (alias) in the request right after the one
// that creates it; a removal re-reads the interface first and refuses to
// touch one that is not ours any more.
import type { LinkClient, RouteInput } from '../link/client.js';
import type { EventLogger } from '../log/logger.js';
import { NetlinkError } from '../netlink/errors.js';
import { ROUTE_PROTOCOL, isOurs, ownAlias } from './ownership.js';
import { observedLink } from './observe.js';
import type { Action, ChildRef, RouteKey } from './types.js';

const ESRCH = 3;
const ENODEV = 19;

export class XfrmiApplyError extends Error {
  override readonly name = 'XfrmiApplyError';
  constructor(
    readonly op: Action['type'],
    readonly ifId: number,
    readonly subject: string,
    override readonly cause: Error,
  ) {
    super(`${op} if_id ${ifId} (${subject}): ${cause.message}`);
  }

  /** For `xfrmi list`: the operation, errno and the kernel's words. */
  get summary(): string {
    const c = this.cause;
    return c instanceof NetlinkError ? `${this.op} ${this.subject}: ${c.code}${c.extack ? ` ${c.extack}` : ''}` : `${this.op} ${this.subject}: ${c.message}`;
  }
}

export const conns = (users: readonly ChildRef[]): string[] => users.map((u) => `${u.conn}/${u.child}#${u.uniqueid}`);

/** Runs the action; returns the ifindex of a created interface. Throws XfrmiApplyError. */
export async function applyAction(links: LinkClient, log: EventLogger, a: Action): Promise<number | undefined> {
  try {
    return await run(links, log, a);
  } catch (e) {
    const cause = e instanceof Error ? e : new Error(String(e));
    const subject = a.type === 'create' || a.type === 'delete' || a.type === 'set-up' || a.type === 'set-mtu' ? a.name : `${a.route.dst} dev ${a.dev}`;
    const err = new XfrmiApplyError(a.type, a.ifId, subject, cause);
    log.event(
      'xfrmi.error',
      {
        op: a.type,
        ifId: a.ifId,
        subject,
        error: cause.message,
        ...(cause instanceof NetlinkError ? { errno: cause.code, ...(cause.extack ? { kernel: cause.extack } : {}) } : {}),
      },
      'warn',
    );
    throw err;
  }
}

async function run(links: LinkClient, log: EventLogger, a: Action): Promise<number | undefined> {
  switch (a.type) {
    case 'create': {
      const l = await links.createXfrm(a.name, { ifId: a.ifId, ...(a.link !== undefined ? { link: a.link } : {}) });
      try {
        await links.setAlias(l.index, ownAlias(a.ifId));
      } catch (e) {
        // Unmarked, it would look foreign to us forever: take it back.
        await links.deleteLink(l.index).catch(() => undefined);
        throw e;
      }
      if (l.mtu !== a.mtu) await links.setMtu(l.index, a.mtu);
      await links.setUp(l.index);
      log.event('xfrmi.created', {
        ifId: a.ifId,
        name: a.name,
        ifindex: l.index,
        ...(a.linkName !== undefined ? { link: a.linkName } : {}),
        mtu: a.mtu,
        conns: conns(a.users),
      });
      return l.index;
    }
    case 'set-up':
      await links.setUp(a.ifindex);
      log.event('xfrmi.updated', { ifId: a.ifId, name: a.name, ifindex: a.ifindex, change: 'up' });
      return undefined;
    case 'set-mtu':
      await links.setMtu(a.ifindex, a.mtu);
      log.event('xfrmi.updated', { ifId: a.ifId, name: a.name, ifindex: a.ifindex, change: 'mtu', mtu: a.mtu, ...(a.was !== undefined ? { was: a.was } : {}) });
      return undefined;
    case 'delete': {
      const now = await links.findLink(a.ifindex);
      if (!now) return undefined;
      if (!isOurs(observedLink(now))) throw new Error(`ifindex ${a.ifindex} (${now.name}) is no longer ours: left alone`);
      try {
        await links.deleteLink(a.ifindex);
      } catch (e) {
        if (e instanceof NetlinkError && e.errno === ENODEV) return undefined;
        throw e;
      }
      log.event('xfrmi.removed', { ifId: a.ifId, name: a.name, ifindex: a.ifindex, reason: 'unused', idleMs: a.idleMs });
      return undefined;
    }
    case 'route-add':
      await links.addRoute(routeInput(a.route, a.ifindex, a.prefsrc));
      log.event('route.added', { ...routeFields(a.route, a.dev, a.ifId), ...(a.prefsrc !== undefined ? { prefsrc: a.prefsrc } : {}), conns: conns(a.users) });
      return undefined;
    case 'route-replace':
      await links.replaceRoute(routeInput(a.route, a.ifindex, a.prefsrc));
      log.event('route.added', {
        ...routeFields(a.route, a.dev, a.ifId),
        ...(a.prefsrc !== undefined ? { prefsrc: a.prefsrc } : {}),
        conns: conns(a.users),
        replaced: true,
      });
      return undefined;
    case 'route-del':
      try {
        await links.deleteRoute(routeInput(a.route, a.ifindex));
      } catch (e) {
        if (e instanceof NetlinkError && (e.errno === ESRCH || e.errno === ENODEV)) return undefined;
        throw e;
      }
      log.event('route.removed', { ...routeFields(a.route, a.dev, a.ifId), reason: a.reason, idleMs: a.idleMs });
      return undefined;
  }
}

/** Our routes: device routes through the interface, marked with our protocol. */
function routeInput(k: RouteKey, ifindex: number, prefsrc?: string): RouteInput {
  return {
    dst: k.dst,
    family: k.family === 6 ? 10 : 2,
    table: k.table,
    metric: k.metric,
    protocol: ROUTE_PROTOCOL,
    dev: ifindex,
    ...(prefsrc !== undefined ? { prefsrc } : {}),
  };
}

function routeFields(k: RouteKey, dev: string, ifId: number): { dst: string; dev: string; ifId: number; table: number; metric: number } {
  return { dst: k.dst, dev, ifId, table: k.table, metric: k.metric };
}
