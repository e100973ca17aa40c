// The `xfrmi:` config section through the daemon's own config loader: the
// defaults, and every refusal with its key path and reason.
import { describe, expect, it } from 'vitest';
import { ConfigError, parseConfig } from '../../../src/daemon/config.js';
import { configuredTables, xfrmiConfigSchema, xfrmiSettings } from '../../../src/xfrmi/config.js';

function problems(yaml: string): string[] {
  try {
    parseConfig(yaml);
  } catch (e) {
    if (e instanceof ConfigError) return e.problems;
    throw e;
  }
  return [];
}

describe('xfrmi config', () => {
  it('absent: defaults (on, xfrm{ifid}, MTU 1400, 30 s grace, no routes, main table)', () => {
    const c = parseConfig('{}').xfrmi;
    expect(c).toEqual({ enabled: true, name: 'xfrm{ifid}', mtu: 1400, grace: 30_000, resync_interval: 30_000, routes: { install: false, table: 254 }, interfaces: {} });
  });

  it('a full section, durations and "main" as written by people', () => {
    const c = parseConfig(
      [
        'xfrmi:',
        '  name: "ipsec{ifid}-{dir}"',
        '  link: eth0',
        '  mtu: 1380',
        '  grace: 5s',
        '  routes:',
        '    install: true',
        '    table: main',
        '    metric: 20',
        '  interfaces:',
        '    "42": { name: vpn-hq, link: eth1, mtu: 1300, table: 100, metric: 5 }',
      ].join('\n'),
    ).xfrmi;
    expect(c).toMatchObject({ name: 'ipsec{ifid}-{dir}', link: 'eth0', mtu: 1380, grace: 5000, routes: { install: true, table: 254, metric: 20 } });
    const s = xfrmiSettings(c);
    expect(s.forIfId(42)).toEqual({ name: 'vpn-hq', link: 'eth1', mtu: 1300, routes: true, table: 100, metric: 5 });
    expect(s.forIfId(7)).toEqual({ link: 'eth0', mtu: 1380, routes: true, table: 254, metric: 20 });
    expect(configuredTables(c)).toEqual([100, 254]);
  });

  it.each([
    ['if_id 0', 'xfrmi:\n  interfaces:\n    "0": { name: vpn0 }', 'xfrmi.interfaces.0: if_id 0 is not an xfrm interface ID: the kernel refuses it, and traffic outside every xfrm interface uses if_id 0'],
    ['if_id over 32 bits', 'xfrmi:\n  interfaces:\n    "4294967296": { mtu: 1400 }', 'xfrmi.interfaces.4294967296: if_id 4294967296 does not fit in 32 bits (1..4294967295)'],
    ['not a number', 'xfrmi:\n  interfaces:\n    "0x10": { mtu: 1400 }', 'xfrmi.interfaces.0x10: "0x10" is not an if_id (a decimal number 1..4294967295)'],
    ['leading zero', 'xfrmi:\n  interfaces:\n    "007": { mtu: 1400 }', 'xfrmi.interfaces.007: write if_id 007 as 7'],
    [
      'two if_ids, one name',
      'xfrmi:\n  interfaces:\n    "1": { name: vpn }\n    "2": { name: vpn }',
      'xfrmi.interfaces.2.name: "vpn" is already the name of if_id 1: two interfaces cannot share a name',
    ],
    [
      'a fixed name the template gives another if_id',
      'xfrmi:\n  interfaces:\n    "7": { name: xfrm5 }',
      'xfrmi.interfaces.7.name: "xfrm5" is what the name template "xfrm{ifid}" gives if_id 5: choose another name, or give if_id 5 a name of its own',
    ],
    ['name over 15 characters', 'xfrmi:\n  interfaces:\n    "7": { name: a-very-long-name0 }', 'xfrmi.interfaces.7.name: interface names have at most 15 characters'],
    ['template without the if_id', 'xfrmi:\n  name: vpn', 'xfrmi.name: name template "vpn": needs {ifid} or {ifid_hex}: every if_id needs a name of its own'],
    ['template too long even for if_id 1', 'xfrmi:\n  name: "ipsec-interface-{ifid}"', 'xfrmi.name: name template "ipsec-interface-{ifid}": even if_id 1 gives "ipsec-interface-1" (17 characters): interface names have at most 15'],
    ['unknown token', 'xfrmi:\n  name: "x{conn}{ifid}"', 'xfrmi.name: name template "x{conn}{ifid}": unknown token {conn} (known: {ifid}, {ifid_hex}, {dir})'],
    ['slash in the template', 'xfrmi:\n  name: "x/{ifid}"', 'xfrmi.name: name template "x/{ifid}": interface names cannot contain whitespace, "/" or ":"'],
    ['table 0', 'xfrmi:\n  routes: { table: 0 }', 'xfrmi.routes.table: a routing table: main, or a number 1..4294967295 (0 is not a table)'],
    ['table by an unknown name', 'xfrmi:\n  routes: { table: vpn }', 'xfrmi.routes.table: a routing table: main, or a number 1..4294967295 (0 is not a table)'],
    ['MTU below the minimum', 'xfrmi:\n  mtu: 60', 'xfrmi.mtu: Too small: expected number to be >=68'],
    ['unknown key', 'xfrmi:\n  mtus: 1400', 'xfrmi: unknown key "mtus"'],
  ])('refused: %s', (_what, yaml, message) => {
    expect(problems(yaml)).toContain(message);
  });

  it('a fixed name for one if_id and the template for the one it shadows: fine when that one has its own name', () => {
    expect(problems('xfrmi:\n  interfaces:\n    "7": { name: xfrm5 }\n    "5": { name: vpn5 }')).toEqual([]);
  });

  it('the schema alone gives the defaults the planner uses', () => {
    expect(xfrmiSettings(xfrmiConfigSchema.parse({})).forIfId(1)).toEqual({ mtu: 1400, routes: false, table: 254 });
  });
});
