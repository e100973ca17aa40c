// The edge half of reconcile: executes planned ops against the maps and the
// ports' XDP hooks, in the plan's order, stopping at the first failure (the
// order is what keeps the software path safe, so nothing after a failed op
// may run). The next reconcile re-reads the maps and plans the rest.
import { BPF_ANY, call, xdpQuery, type NetnsOption, type XdpMode } from './bpf.js';
import type { SteerMaps, SteerPrograms } from './object.js';
import type { SteerOp } from './plan.js';
import { counterValue, devmapValue, portStatsValue, u32Key } from './layout.js';
import { encodeEspKey, encodeFdbKey, encodeFdbValue, encodePort } from './records.js';

export interface ApplyContext {
  maps: SteerMaps;
  programs: SteerPrograms;
  netns?: NetnsOption;
  /** XDP attach mode for port programs */
  mode: 'auto' | XdpMode;
}

export interface AppliedOp {
  op: SteerOp;
  /** for port-attach: the mode the kernel took */
  mode?: XdpMode;
}

/** An op failed; `applied` ran before it, nothing after it ran. */
export class SteerApplyError extends Error {
  override readonly name = 'SteerApplyError';
  constructor(
    readonly failed: SteerOp,
    readonly applied: readonly AppliedOp[],
    override readonly cause: Error,
  ) {
    super(`steering op ${failed.op} failed after ${applied.length} applied: ${cause.message}`);
  }
}

const u32 = (n: number): Buffer => u32Key.encode({ value: n });

function applyOne(ctx: ApplyContext, op: SteerOp): AppliedOp {
  const { maps, programs, netns } = ctx;
  switch (op.op) {
    case 'esp-add':
      maps.esp.update(encodeEspKey(op.esp), maps.esp.replicate(counterValue.encode({})), BPF_ANY);
      return { op };
    case 'esp-delete':
      maps.esp.delete(encodeEspKey(op.esp));
      return { op };
    case 'fdb-delete':
      maps.fdb.delete(encodeFdbKey(op.key));
      return { op };
    case 'fdb-set':
      maps.fdb.update(encodeFdbKey(op.entry), maps.fdb.replicate(encodeFdbValue(op.entry)), BPF_ANY);
      return { op };
    case 'port-stats-reset':
      maps.portStats.update(u32(op.slot), maps.portStats.replicate(portStatsValue.encode({})), BPF_ANY);
      return { op };
    case 'port-set':
      maps.portInfo.update(u32(op.port.ifindex), encodePort(op.port), BPF_ANY);
      return { op };
    case 'port-delete':
      maps.portInfo.delete(u32(op.ifindex));
      return { op };
    case 'devmap-set':
      // The kernel resolves the ifindex in the caller's netns: run it in the ports' one.
      maps.ports.update(u32(op.ifindex), devmapValue.encode({ ifindex: op.ifindex, bpfProg: 0 }), BPF_ANY, netns);
      return { op };
    case 'devmap-delete':
      maps.ports.delete(u32(op.ifindex));
      return { op };
    case 'port-attach': {
      const mode = call(`attach ${programs.portRx.name} to ${op.device}`, (b) =>
        b.xdpAttach(op.ifindex, programs.portRx.fd, { mode: ctx.mode, ...netns }),
      );
      return { op, mode };
    }
    case 'port-detach': {
      const q = xdpQuery(op.ifindex, netns);
      if (q.progId !== programs.portRx.id) return { op }; // gone or replaced by someone else: not ours to remove
      const mode: XdpMode = q.attachMode === 'generic' ? 'generic' : 'native';
      call(`detach ${programs.portRx.name} from ifindex ${op.ifindex}`, (b) =>
        b.xdpDetach(op.ifindex, { mode, expectedFd: programs.portRx.fd, ...netns }),
      );
      return { op };
    }
  }
}

export function applyOps(ctx: ApplyContext, ops: readonly SteerOp[]): AppliedOp[] {
  const applied: AppliedOp[] = [];
  for (const op of ops) {
    try {
      applied.push(applyOne(ctx, op));
    } catch (e) {
      throw new SteerApplyError(op, applied, e instanceof Error ? e : new Error(String(e)));
    }
  }
  return applied;
}
