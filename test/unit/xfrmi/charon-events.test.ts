// The CHILD_SA bookkeeping fed with what charon 5.9.8 really sent (the VICI
// fixtures captured by test/host/vici/support/capture-fixtures.ts: CHILD_SA
// c1 with if_id_in 7 and if_id_out 0x1234, c2 without if_ids; then a CHILD
// rekey, an IKE rekey, and the teardown), then through the planner.
import { describe, expect, it } from 'vitest';
import { decodeMessage } from '../../../src/vici/wire/elements.js';
import { parseChildRekey, parseChildUpdown, parseIkeRekey, parseIkeUpdown, parseListSa } from '../../../src/vici/index.js';
import { applyChildRekey, applyChildUpdown, applyIkeDown, applyIkeRekey, childrenFromList, type ChildMap } from '../../../src/xfrmi/children.js';
import { planXfrmi } from '../../../src/xfrmi/plan.js';
import { fixture, packets } from '../vici/fixtures.js';
import { input, ns, ours, route, settings } from './builders.js';

interface Ev {
  name: string;
  apply(m: ChildMap): void;
}

function events(): Ev[] {
  const out: Ev[] = [];
  for (const p of packets(fixture('events').fromCharon)) {
    if (!p.message || !p.name) continue;
    const m = decodeMessage(p.message);
    const name = p.name;
    if (name === 'child-updown') out.push({ name, apply: (c) => applyChildUpdown(c, parseChildUpdown(m)) });
    else if (name === 'child-rekey') out.push({ name, apply: (c) => applyChildRekey(c, parseChildRekey(m)) });
    else if (name === 'ike-updown') {
      const e = parseIkeUpdown(m);
      out.push({ name, apply: (c) => (e.up ? undefined : applyIkeDown(c, e.ike.uniqueid)) });
    } else if (name === 'ike-rekey') {
      const e = parseIkeRekey(m);
      out.push({ name, apply: (c) => applyIkeRekey(c, e.old.uniqueid, { ikeId: e.new.uniqueid, conn: e.new.name }) });
    }
  }
  return out;
}

const summary = (m: ChildMap): string[] => [...m.values()].map((c) => `${c.conn}/${c.child}#${c.uniqueid} ike${c.ikeId} in=${c.ifIdIn ?? '-'} out=${c.ifIdOut ?? '-'}`);

describe('CHILD_SAs with if_ids from charon', () => {
  it('the captured event stream, step by step (only CHILD_SAs with an if_id are kept)', () => {
    const evs = events();
    expect(evs.map((e) => e.name)).toEqual(['ike-updown', 'child-updown', 'child-updown', 'child-rekey', 'ike-rekey', 'child-updown', 'ike-updown', 'child-updown']);
    const m: ChildMap = new Map();
    const seen = evs.map((e) => {
      e.apply(m);
      return summary(m);
    });
    expect(seen).toEqual([
      [],
      ['lab/c1#1 ike1 in=7 out=4660'],
      ['lab/c1#1 ike1 in=7 out=4660'],
      // the rekeyed CHILD_SA replaces the old one at once and keeps both if_ids
      ['lab/c1#3 ike1 in=7 out=4660'],
      ['lab/c1#3 ike2 in=7 out=4660'],
      ['lab/c1#3 ike2 in=7 out=4660'],
      // ike-updown down comes before the CHILD_SA's own down
      [],
      [],
    ]);
  });

  it('every event applied twice gives the same state (events buffered during a list-sas are replayed after it)', () => {
    const once: ChildMap = new Map();
    const twice: ChildMap = new Map();
    for (const e of events()) {
      e.apply(once);
      e.apply(twice);
      e.apply(twice);
      expect(summary(twice)).toEqual(summary(once));
    }
  });

  it('list-sas: c1 with its selectors and the IKE_SA addresses', () => {
    const ikes = packets(fixture('list-sas').fromCharon)
      .filter((p) => p.name === 'list-sa' && p.message)
      .flatMap((p) => parseListSa(decodeMessage(p.message as Buffer)));
    expect([...childrenFromList(ikes).values()]).toEqual([
      { uniqueid: 1, conn: 'lab', child: 'c1', ikeId: 1, ifIdIn: 7, ifIdOut: 4660, localAddr: '10.0.0.1', remoteAddr: '10.0.0.2', localTs: ['10.1.1.0/24'], remoteTs: ['10.1.2.0/24'] },
    ]);
  });

  it('planned: an in interface for 7, an out interface for 0x1234 with the route; the rekey changes nothing (no flap)', () => {
    const cfg = settings({ routes: { install: true } });
    const evs = events();
    const m: ChildMap = new Map();
    for (const e of evs.slice(0, 2)) e.apply(m);
    const addresses = [{ ifindex: 1, address: '10.1.1.1', family: 4 as const }];
    const first = planXfrmi(input({ children: [...m.values()], observed: ns({ addresses }) }), cfg);
    expect(first.actions.map((a) => (a.type === 'create' ? `create ${a.name} ${a.linkName}` : a.type))).toEqual(['create xfrm7 nsim0', 'create xfrm4660 nsim0']);

    const built = ns({
      addresses,
      links: [ours(7, 10), ours(4660, 11)],
      routes: [route('10.1.2.0/24', 11, { prefsrc: '10.1.1.1' })],
    });
    for (const e of evs.slice(2, 6)) {
      e.apply(m);
      const p = planXfrmi(input({ children: [...m.values()], observed: built }), cfg);
      expect(p.actions).toEqual([]);
      const c1 = [...m.values()].map((c) => c.uniqueid);
      expect(p.rows.map((r) => [r.ifId, r.dirs.join('+'), r.conns.map((c) => c.uniqueid)])).toEqual([
        [7, 'in', c1],
        [4660, 'out', c1],
      ]);
    }
    for (const e of evs.slice(6)) e.apply(m);
    const after = planXfrmi(input({ children: [...m.values()], observed: built }), cfg);
    expect(after.actions).toEqual([]);
    expect(after.rows.map((r) => r.state)).toEqual(['idle', 'idle']);
  });
});
