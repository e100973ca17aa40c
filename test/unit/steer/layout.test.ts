// src/steer/layout.ts against bpf/steer.h as the C compiler sees it: a small
// program compiled with gcc includes the header the XDP programs include and
// prints sizeof/offsetof/sizeof(member) of every struct and field we mirror,
// every constant and every verdict counter's enum value. If either side
// changes alone, this fails.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import * as L from '../../../src/steer/layout.js';

const snake = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();
const STRUCTS = [L.fdbKey, L.fdbValue, L.portValue, L.espKey, L.counterValue, L.portStatsValue, L.devmapValue];
const CONSTANTS = {
  STEER_FDB_MAX: L.STEER_FDB_MAX,
  STEER_PORT_MAX: L.STEER_PORT_MAX,
  STEER_ESP_MAX: L.STEER_ESP_MAX,
  STEER_STAT_SLOTS: L.STEER_STAT_SLOTS,
  STEER_FDB_F_STRIP: L.STEER_FDB_F_STRIP,
  STEER_ORIGIN_CONFIG: L.STEER_ORIGIN_CONFIG,
  STEER_ORIGIN_VF: L.STEER_ORIGIN_VF,
  STEER_ORIGIN_MANUAL: L.STEER_ORIGIN_MANUAL,
  STEER_STAT_MAX: L.STEER_STATS.length,
  BPF_MAP_TYPE_HASH: L.BPF_MAP_TYPE_HASH,
  BPF_MAP_TYPE_PERCPU_HASH: L.BPF_MAP_TYPE_PERCPU_HASH,
  BPF_MAP_TYPE_PERCPU_ARRAY: L.BPF_MAP_TYPE_PERCPU_ARRAY,
  BPF_MAP_TYPE_DEVMAP_HASH: L.BPF_MAP_TYPE_DEVMAP_HASH,
};
/** STEER_STATS entry -> its C enumerator (camelCase of STEER_STAT_<NAME>). */
const statEnum = (name: string): string => `STEER_STAT_${snake(name).toUpperCase()}`;

let measured: Map<string, number>;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'steer-layout-'));
  const lines: string[] = [];
  for (const s of STRUCTS) {
    lines.push(`printf("${s.name} %zu\\n", sizeof(struct ${s.name}));`);
    for (const key of Object.keys(s.fields)) {
      const m = snake(key);
      lines.push(`printf("${s.name}.${key}@ %zu\\n", offsetof(struct ${s.name}, ${m}));`);
      lines.push(`printf("${s.name}.${key}# %zu\\n", sizeof(((struct ${s.name} *)0)->${m}));`);
    }
  }
  for (const c of Object.keys(CONSTANTS)) lines.push(`printf("${c} %lld\\n", (long long)(${c}));`);
  for (const s of L.STEER_STATS) lines.push(`printf("${statEnum(s)} %d\\n", (int)${statEnum(s)});`);
  const src = [
    '#include <stdio.h>',
    '#include <stddef.h>',
    '#include <linux/bpf.h>',
    '#include "steer.h"',
    'int main(void) {',
    ...lines,
    'return 0;',
    '}',
  ].join('\n');
  writeFileSync(join(dir, 'layout.c'), src);
  const bpfDir = resolve(import.meta.dirname, '../../../bpf');
  execFileSync('gcc', ['-m64', '-Wall', '-Werror', `-I${bpfDir}`, '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
  measured = new Map();
  for (const line of execFileSync(join(dir, 'layout'), { encoding: 'utf8' }).trim().split('\n')) {
    const [name, value] = line.split(' ') as [string, string];
    measured.set(name, Number(value));
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('steer map layouts agree with bpf/steer.h (gcc, x86_64)', () => {
  for (const s of STRUCTS) {
    it(`struct ${s.name}`, () => {
      expect(s.size, `sizeof(struct ${s.name})`).toBe(measured.get(s.name));
      for (const [key, [offset, type]] of Object.entries(s.fields)) {
        expect(offset, `offsetof(${s.name}, ${snake(key)})`).toBe(measured.get(`${s.name}.${key}@`));
        expect(type.size, `sizeof(${s.name}.${snake(key)})`).toBe(measured.get(`${s.name}.${key}#`));
      }
    });
  }

  it('constants', () => {
    for (const [name, value] of Object.entries(CONSTANTS)) expect(value, name).toBe(measured.get(name));
  });

  it('verdict counters in enum order, within the map', () => {
    L.STEER_STATS.forEach((s, i) => expect(measured.get(statEnum(s)), statEnum(s)).toBe(i));
    expect(L.STEER_STATS.length).toBeLessThanOrEqual(L.STEER_STAT_SLOTS);
  });

  it('the map table uses these structs', () => {
    expect(L.STEER_MAPS.fdb).toMatchObject({ keySize: 8, valueSize: 24, perCpu: true, maxEntries: L.STEER_FDB_MAX });
    expect(L.STEER_MAPS.esp).toMatchObject({ keySize: 24, valueSize: 16, perCpu: true });
    expect(L.STEER_MAPS.ports).toMatchObject({ keySize: 4, valueSize: 8, perCpu: false });
    expect(L.STEER_MAPS.portInfo).toMatchObject({ keySize: 4, valueSize: 16, perCpu: false });
    expect(L.STEER_MAPS.portStats).toMatchObject({ valueSize: 48, perCpu: true, maxEntries: L.STEER_PORT_MAX });
  });
});
