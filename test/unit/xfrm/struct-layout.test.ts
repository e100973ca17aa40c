// The struct tables in src/xfrm/structs.ts against the C compiler: a small
// program compiled with gcc against this system's <linux/xfrm.h> prints
// sizeof/offsetof/sizeof(member) of every struct and field we declare.
// Golden from the compiler, not from memory.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { XFRM_STRUCTS } from '../../../src/xfrm/structs.js';

const snake = (k: string): string => k.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase();

/** Flexible array members (the key / bitmap tails our codecs append). */
const TAILS: [struct: string, member: string, offset: number][] = [
  ['xfrm_algo', 'alg_key', 68],
  ['xfrm_algo_auth', 'alg_key', 72],
  ['xfrm_algo_aead', 'alg_key', 72],
  ['xfrm_replay_state_esn', 'bmp', 24],
];

interface Measured {
  size: Map<string, number>;
  field: Map<string, { offset: number; size: number }>;
}

let measured: Measured;
let dir: string;

beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), 'xfrm-layout-'));
  const lines: string[] = [];
  for (const s of XFRM_STRUCTS) {
    lines.push(`printf("S ${s.name} %zu\\n", sizeof(struct ${s.name}));`);
    for (const key of Object.keys(s.fields)) {
      const m = snake(key);
      lines.push(`printf("F ${s.name}.${key} %zu %zu\\n", offsetof(struct ${s.name}, ${m}), sizeof(((struct ${s.name} *)0)->${m}));`);
    }
  }
  for (const [s, m] of TAILS) lines.push(`printf("T ${s}.${m} %zu 0\\n", offsetof(struct ${s}, ${m}));`);
  const src = `#include <stdio.h>\n#include <stddef.h>\n#include <sys/socket.h>\n#include <linux/xfrm.h>\nint main(void) {\n${lines.join('\n')}\nreturn 0;\n}\n`;
  writeFileSync(join(dir, 'layout.c'), src);
  execFileSync('gcc', ['-m64', '-Wall', '-Werror', '-o', join(dir, 'layout'), join(dir, 'layout.c')]);
  const out = execFileSync(join(dir, 'layout'), { encoding: 'utf8' });
  measured = { size: new Map(), field: new Map() };
  for (const line of out.trim().split('\n')) {
    const [kind, name, a, b] = line.split(' ') as [string, string, string, string];
    if (kind === 'S') measured.size.set(name, Number(a));
    else measured.field.set(name, { offset: Number(a), size: Number(b) });
  }
});

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('XFRM struct tables agree with gcc on <linux/xfrm.h> (x86_64)', () => {
  for (const s of XFRM_STRUCTS) {
    it(`struct ${s.name}`, () => {
      expect(s.size, `sizeof(struct ${s.name})`).toBe(measured.size.get(s.name));
      for (const [key, [offset, type]] of Object.entries(s.fields)) {
        const m = measured.field.get(`${s.name}.${key}`);
        expect(m, `${s.name}.${snake(key)} measured`).toBeDefined();
        expect(offset, `offsetof(${s.name}, ${snake(key)})`).toBe(m?.offset);
        expect(type.size, `sizeof(${s.name}.${snake(key)})`).toBe(m?.size);
      }
    });
  }

  it('covers the structs the task names, with the headline sizes', () => {
    const names = XFRM_STRUCTS.map((s) => s.name);
    for (const n of [
      'xfrm_selector', 'xfrm_id', 'xfrm_lifetime_cfg', 'xfrm_lifetime_cur', 'xfrm_stats', 'xfrm_usersa_info', 'xfrm_usersa_id',
      'xfrm_aevent_id', 'xfrm_userspi_info', 'xfrm_userpolicy_info', 'xfrm_userpolicy_id', 'xfrm_user_tmpl', 'xfrm_algo',
      'xfrm_algo_auth', 'xfrm_algo_aead', 'xfrm_replay_state', 'xfrm_replay_state_esn', 'xfrm_user_offload', 'xfrm_mark',
      'xfrm_encap_tmpl', 'xfrm_user_expire', 'xfrm_user_polexpire', 'xfrm_user_acquire', 'xfrm_address_filter',
      'xfrm_user_mapping', 'xfrm_userpolicy_type', 'xfrm_usersa_flush', 'xfrm_userpolicy_default',
    ]) {
      expect(names).toContain(n);
    }
    expect(measured.size.get('xfrm_usersa_info')).toBe(224);
    expect(measured.size.get('xfrm_userpolicy_info')).toBe(168);
  });

  it('the key and bitmap tails start where our codecs put them', () => {
    for (const [s, m, offset] of TAILS) expect(measured.field.get(`${s}.${m}`)?.offset, `${s}.${m}`).toBe(offset);
  });
});
