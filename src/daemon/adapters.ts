// Adapters from the VICI and rtnetlink views to the offload model's inputs.
import type { ChildSa } from '../vici/views/child-sa.js';
import type { IkeSa } from '../vici/views/ike-sa.js';
import type { ChildInfo, DeviceInfo } from '../offload/model.js';
import type { Link } from '../link/link-view.js';

export function childInfo(ike: IkeSa, c: ChildSa): ChildInfo {
  const mark = (value?: number, mask?: number): { value: number; mask: number } | undefined =>
    value !== undefined && (value !== 0 || (mask ?? 0) !== 0) ? { value, mask: mask ?? 0xffffffff } : undefined;
  const markIn = mark(c.markIn, c.markMaskIn);
  const markOut = mark(c.markOut, c.markMaskOut);
  return {
    uniqueid: c.uniqueid,
    reqid: c.reqid,
    name: c.name,
    ike: { name: ike.name, uniqueid: ike.uniqueid },
    state: c.state,
    mode: c.mode,
    localAddr: ike.localHost,
    remoteAddr: ike.remoteHost,
    ...(c.spiIn !== undefined ? { spiIn: c.spiIn } : {}),
    ...(c.spiOut !== undefined ? { spiOut: c.spiOut } : {}),
    esn: c.esn,
    encap: c.encap,
    ...(markIn ? { markIn } : {}),
    ...(markOut ? { markOut } : {}),
    ...(c.ifIdIn ? { ifIdIn: c.ifIdIn } : {}),
    ...(c.ifIdOut ? { ifIdOut: c.ifIdOut } : {}),
  };
}

export function childrenOf(ikes: readonly IkeSa[]): ChildInfo[] {
  return ikes.flatMap((ike) => ike.childSas.map((c) => childInfo(ike, c)));
}

export function deviceInfo(link: Link, espOffload: boolean, addresses: string[]): DeviceInfo {
  return { ifindex: link.index, name: link.name, up: link.up, espOffload, addresses };
}
