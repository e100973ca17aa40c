// The ownership model and its store: reqids from the top of the space, shared
// policies freed only with their last child, retirement, and the store file
// written atomically, read back equal, holding no key byte, refusing (and
// moving aside) a damaged file.
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync, readdirSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { authorizeChild, type VfAllowance } from '../../../src/vf/pf/host-child.js';
import { addOwnedChild, emptyOwnership, indexOf, isRetired, newPolicies, pruneRetired, removeOwnedChild, reqidFor, REQID_BASE, type Ownership } from '../../../src/vf/pf/ownership.js';
import { parsePrefix } from '../../../src/vf/pf/prefixes.js';
import { OwnershipStore, OwnershipStoreError } from '../../../src/vf/pf/store.js';
import type { ChildSpec } from '../../../src/vf/protocol/codec.js';
import { KEY_HEX, child, ts } from './builders.js';

const vf: VfAllowance = { name: 't0', ifId: 100, addresses: [parsePrefix('0.0.0.0/0') as NonNullable<ReturnType<typeof parsePrefix>>], maxSas: 100 };

function add(o: Ownership, c: ChildSpec, name = 't0'): void {
  const r = authorizeChild({ vf: { ...vf, name }, child: c, ownership: o, now: 10, reqid: () => reqidFor(o, name, 100, c.reqid) });
  if (!r.ok || r.present) throw new Error(`refused: ${JSON.stringify(r)}`);
  addOwnedChild(o, name, 100, r.record);
}

describe('ownership', () => {
  it('host reqids: from 0xc0000000, stable per (VF, tenant reqid), distinct across VFs', () => {
    const o = emptyOwnership();
    expect(reqidFor(o, 't0', 100, 1)).toBe(REQID_BASE);
    expect(reqidFor(o, 't0', 100, 1)).toBe(REQID_BASE);
    expect(reqidFor(o, 't1', 101, 1)).toBe(REQID_BASE + 1);
    expect(reqidFor(o, 't0', 100, 2)).toBe(REQID_BASE + 2);
  });

  it('a rekeyed CHILD_SA shares its policies: they go only with the last child that needs them', () => {
    const o = emptyOwnership();
    add(o, child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    const second = child({ uniqueid: 2, spiIn: 0xc2, spiOut: 0xd2 });
    const r = authorizeChild({ vf, child: second, ownership: o, now: 10, reqid: () => reqidFor(o, 't0', 100, 1) });
    if (!r.ok || r.present) throw new Error('refused');
    expect(newPolicies(o.vfs.get('t0'), r.record)).toEqual([]);
    addOwnedChild(o, 't0', 100, r.record);
    expect(removeOwnedChild(o, 't0', 1, 99).policies).toEqual([]);
    const freed = removeOwnedChild(o, 't0', 2, 99);
    expect(freed.policies.map((p) => p.dir)).toEqual(['out', 'in', 'fwd']);
    expect(o.vfs.get('t0')?.reqids.size).toBe(0);
  });

  it('removing a child retires its SAs until the given time; pruning forgets them after', () => {
    const o = emptyOwnership();
    add(o, child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    removeOwnedChild(o, 't0', 1, 500);
    const id = { family: 'ipv4' as const, daddr: '192.168.20.2', spi: 0xd1 };
    expect(isRetired(o.vfs.get('t0'), id, 499)).toBe(true);
    expect(isRetired(o.vfs.get('t0'), id, 500)).toBe(false);
    pruneRetired(o, 600);
    expect(o.vfs.get('t0')?.retired).toEqual([]);
  });

  it('the index names holders and inbound SPI users across VFs', () => {
    const o = emptyOwnership();
    add(o, child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    add(o, child({ uniqueid: 4, local: '192.168.11.2', spiIn: 0xc1, spiOut: 0xd4, localTs: [ts('10.11.0.0/24')] }), 't1');
    const ix = indexOf(o);
    expect(ix.holderOf({ family: 'ipv4', daddr: '192.168.20.2', spi: 0xd4 })).toEqual({ vf: 't1', uniqueid: 4 });
    expect(ix.inboundSpiUsers(0xc1, 't0')).toEqual(['t1']);
    expect(ix.saCount('t0')).toBe(2);
  });
});

describe('the ownership store', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vf-store-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('round-trips, is 0600, and holds no key byte', () => {
    const o = emptyOwnership();
    add(o, child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    add(o, child({ uniqueid: 2, spiIn: 0xc2, spiOut: 0xd2 }));
    removeOwnedChild(o, 't0', 2, 12345);
    const t0 = o.vfs.get('t0');
    if (t0) t0.epoch = '00000000deadbeef';
    const store = new OwnershipStore(join(dir, 'a', 'owners.json'));
    store.save(o);
    expect(statSync(store.path).mode & 0o777).toBe(0o600);
    const text = readFileSync(store.path, 'utf8');
    expect(text.toLowerCase()).not.toContain(KEY_HEX);
    expect(text).not.toMatch(/"(key|aead|auth|crypt)"/);
    const back = store.load();
    expect(back).toEqual(o);
    expect(existsSync(`${store.path}.tmp`)).toBe(false);
  });

  it('no file: nothing known', () => {
    expect(new OwnershipStore(join(dir, 'none.json')).load()).toBeUndefined();
  });

  it('a damaged or foreign file is refused and moved aside, never half-read', () => {
    for (const [name, body] of [
      ['trunc.json', '{"version":1,"vfs":{'],
      ['other.json', '{"version":2,"written":"x","nextReqid":0,"vfs":{}}'],
      ['keys.json', JSON.stringify({ version: 1, written: 'x', nextReqid: 3221225472, vfs: { t0: { epoch: null, ifId: 1, children: [], retired: [], reqids: [], key: 'ab' } } })],
    ] as const) {
      const p = join(dir, name);
      writeFileSync(p, body);
      const store = new OwnershipStore(p);
      expect(() => store.load(), name).toThrow(OwnershipStoreError);
      expect(existsSync(p)).toBe(false);
      expect(readdirSync(dir).some((f) => f.startsWith(`${name}.unusable-`))).toBe(true);
    }
  });

  it('a crash while writing leaves the previous file intact (the temporary file is never read)', () => {
    const o = emptyOwnership();
    add(o, child({ uniqueid: 1, spiIn: 0xc1, spiOut: 0xd1 }));
    const store = new OwnershipStore(join(dir, 'crash.json'));
    store.save(o);
    writeFileSync(`${store.path}.tmp`, '{"version":1,');
    expect(store.load()).toEqual(o);
  });
});
