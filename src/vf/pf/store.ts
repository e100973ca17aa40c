// The ownership store: the Ownership (ownership.ts) as one JSON file, written
// whole and atomically (temporary file, fsync, rename, fsync of the
// directory) before the kernel is changed to match (an SA is recorded before
// it is installed and forgotten after it is deleted), so a daemon that dies at
// any instant restarts knowing every SA a VF owns. It holds no key material:
// the types it serialises have no field for one.
import { closeSync, existsSync, fsyncSync, mkdirSync, openSync, readFileSync, renameSync, writeSync } from 'node:fs';
import { dirname } from 'node:path';
import { z } from 'zod';
import { REQID_BASE, type Ownership, type OwnedChild, type VfOwnership } from './ownership.js';

export const STORE_VERSION = 1;

const u32 = z.number().int().min(0).max(0xffffffff);
const family = z.enum(['ipv4', 'ipv6']);
const addr = z.string().max(64);
const selector = z
  .object({
    family: z.union([z.enum(['ipv4', 'ipv6', 'unspec']), u32]),
    saddr: addr,
    prefixlenS: z.number().int().min(0).max(128),
    daddr: addr,
    prefixlenD: z.number().int().min(0).max(128),
    proto: z.number().int().min(0).max(255),
    sport: z.number().int().min(0).max(0xffff),
    sportMask: z.number().int().min(0).max(0xffff),
    dport: z.number().int().min(0).max(0xffff),
    dportMask: z.number().int().min(0).max(0xffff),
    ifindex: z.number().int(),
    user: u32,
  })
  .strict();
const child = z
  .object({
    uniqueid: u32,
    name: z.string().max(256),
    ike: z.string().max(256),
    reqid: u32,
    tenantReqid: u32,
    sas: z.array(z.object({ dir: z.enum(['in', 'out']), family, daddr: addr, saddr: addr, spi: u32 }).strict()),
    policies: z.array(z.object({ dir: z.enum(['in', 'out', 'fwd']), selector }).strict()),
    routes: z.array(z.string().max(64)),
    software: z.literal('spi-collision').optional(),
    installedAt: z.number(),
  })
  .strict();
const vf = z
  .object({
    epoch: z.string().regex(/^[0-9a-f]{16}$/).nullable(),
    ifId: u32,
    children: z.array(child),
    retired: z.array(z.object({ family, daddr: addr, spi: u32, until: z.number() }).strict()),
    reqids: z.array(z.tuple([u32, u32])),
  })
  .strict();
const file = z
  .object({
    version: z.literal(STORE_VERSION),
    written: z.string(),
    nextReqid: u32,
    vfs: z.record(z.string(), vf),
  })
  .strict();

export type StoreFile = z.output<typeof file>;

/** The store file could not be used; `path` was moved aside to `movedTo`. */
export class OwnershipStoreError extends Error {
  override readonly name = 'OwnershipStoreError';
  constructor(
    readonly path: string,
    readonly problem: string,
    readonly movedTo: string | undefined,
  ) {
    super(`ownership store ${path}: ${problem}${movedTo ? ` (kept as ${movedTo})` : ''}`);
  }
}

export function toStoreFile(o: Ownership, now: Date): StoreFile {
  const vfs: StoreFile['vfs'] = {};
  for (const [name, v] of [...o.vfs].sort(([a], [b]) => a.localeCompare(b))) {
    vfs[name] = {
      epoch: v.epoch,
      ifId: v.ifId,
      children: [...v.children.values()].sort((a, b) => a.uniqueid - b.uniqueid).map((c) => ({ ...c, sas: c.sas.map((s) => ({ ...s })), policies: c.policies.map((p) => ({ dir: p.dir, selector: { ...p.selector } })), routes: [...c.routes] })),
      retired: v.retired.map((r) => ({ ...r })),
      reqids: [...v.reqids].sort((a, b) => a[0] - b[0]),
    };
  }
  return { version: STORE_VERSION, written: now.toISOString(), nextReqid: o.nextReqid, vfs };
}

export function fromStoreFile(f: StoreFile): Ownership {
  const vfs = new Map<string, VfOwnership>();
  for (const [name, v] of Object.entries(f.vfs)) {
    vfs.set(name, {
      epoch: v.epoch,
      ifId: v.ifId,
      children: new Map(v.children.map((c) => [c.uniqueid, c as OwnedChild])),
      retired: v.retired,
      reqids: new Map(v.reqids),
    });
  }
  return { vfs, nextReqid: Math.max(f.nextReqid, REQID_BASE) };
}

export class OwnershipStore {
  constructor(readonly path: string) {}

  /** The stored ownership; undefined when there is no file. Throws OwnershipStoreError (and moves the file aside) when it is unusable. */
  load(): Ownership | undefined {
    if (!existsSync(this.path)) return undefined;
    let raw: unknown;
    try {
      raw = JSON.parse(readFileSync(this.path, 'utf8'));
    } catch (e) {
      throw this.#aside(`not JSON: ${(e as Error).message}`);
    }
    const r = file.safeParse(raw);
    if (!r.success) throw this.#aside(`not an ownership store of version ${STORE_VERSION}: ${r.error.issues[0]?.path.join('.') ?? ''} ${r.error.issues[0]?.message ?? ''}`.trim());
    return fromStoreFile(r.data);
  }

  /** Writes the whole ownership atomically; returns once it is on disk. */
  save(o: Ownership, now = new Date()): void {
    const dir = dirname(this.path);
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const tmp = `${this.path}.tmp`;
    const body = `${JSON.stringify(toStoreFile(o, now), null, 1)}\n`;
    const fd = openSync(tmp, 'w', 0o600);
    try {
      writeSync(fd, body);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, this.path);
    const d = openSync(dir, 'r');
    try {
      fsyncSync(d);
    } finally {
      closeSync(d);
    }
  }

  #aside(problem: string): OwnershipStoreError {
    const to = `${this.path}.unusable-${Date.now()}`;
    try {
      renameSync(this.path, to);
      return new OwnershipStoreError(this.path, problem, to);
    } catch {
      return new OwnershipStoreError(this.path, problem, undefined);
    }
  }
}
