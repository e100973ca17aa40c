// Whatever kernel captures the lab left in fixtures/lab/ (made by
// test/lab/link/capture-fixtures.ts on Debian 6.1 + netdevsim): every answer
// decodes, agrees with what iproute2/ethtool printed from the same bytes, and
// a VF list past 64 KiB is recovered where iproute2 reports it truncated.
import { describe, expect, it } from 'vitest';
import { RTM_NEWLINK } from '../../../src/link/constants.js';
import { decodeFeatureNames, decodeFeatures } from '../../../src/link/ethtool.js';
import { toLink, type Link } from '../../../src/link/link-view.js';
import { decodeRtMessage } from '../../../src/link/messages.js';
import { GENL_ID_CTRL, decodeFamily } from '../../../src/netlink/genl.js';
import { asMessage, fixtureIds, loadFixture, LAB_FIXTURE_DIR, type Fixture } from './fixtures.js';
import { expectKindAndVfsMatchIproute2, expectLinkMatchesIproute2, type Json } from './iproute2-json.js';

const ids = fixtureIds(LAB_FIXTURE_DIR);

const links = (f: Fixture): Link[] =>
  f.received
    .map(asMessage)
    .filter((m) => m.type === RTM_NEWLINK)
    .map((m) => {
      const d = decodeRtMessage(m);
      if (d.family !== 'link') throw new Error('not a link');
      return toLink(d.header, d.attrs, d.vfList);
    });

describe.runIf(ids.length > 0)('lab kernel captures', () => {
  it.each(ids)('%s', (id) => {
    const f = loadFixture(id, LAB_FIXTURE_DIR);
    expect(f.captured.kernel).toMatch(/^6\./);
    expect(f.exitCode).toBe(0);

    if (f.captured.command.startsWith('ethtool')) {
      const received = f.received.map(asMessage);
      const family = decodeFamily(received.find((m) => m.type === GENL_ID_CTRL) as NonNullable<(typeof received)[number]>);
      const names = decodeFeatureNames(received.find((m) => m.type === family.id && m.payload[0] === 1) as NonNullable<(typeof received)[number]>);
      const features = decodeFeatures(received.find((m) => m.type === family.id && m.payload[0] === 11) as NonNullable<(typeof received)[number]>, names);
      const printed = (JSON.parse(f.stdout) as Json[])[0] as Record<string, { active: boolean; fixed: boolean | null; requested: boolean | null } | string>;
      let n = 0;
      for (const [name, v] of Object.entries(printed)) {
        if (typeof v === 'string' || v.fixed === null || !features.has(name)) continue;
        expect(features.get(name), name).toEqual(v);
        n++;
      }
      expect(n).toBeGreaterThan(40);
      return;
    }

    const ours = links(f);
    expect(ours.length).toBeGreaterThan(0);
    if (f.stdout.trimStart().startsWith('[')) {
      const theirs = JSON.parse(f.stdout) as Json[];
      const byIndex = new Map(ours.map((l) => [l.index, l]));
      for (const t of theirs) {
        // the last answer for a name is the one iproute2 printed
        const o = ours.filter((l) => l.index === t.ifindex).at(-1);
        expect(o, String(t.ifname)).toBeDefined();
        expectLinkMatchesIproute2(o as Link, t, byIndex);
        expectKindAndVfsMatchIproute2(o as Link, t);
      }
    }
    if (f.stderr.includes('Truncated VF list')) {
      // iproute2 gave up on this list; we read all of it
      const truncated = ours.filter((l) => l.vfListTruncation);
      expect(truncated.length).toBeGreaterThan(0);
      for (const l of truncated) {
        expect(f.stderr).toContain(`Truncated VF list: ${l.name}`);
        expect(l.vfListTruncation).toMatchObject({ device: l.name, recovered: true, decoded: l.numVf });
        expect(l.vfs?.map((v) => v.vf)).toEqual(Array.from({ length: l.numVf ?? 0 }, (_, i) => i));
      }
    }
  });
});
