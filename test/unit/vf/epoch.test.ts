// The agent's epoch: charon's process start time read from /proc/PID/stat.
// Both lines were captured on this host (kernel 6.18) with `cat /proc/PID/stat`:
// PID 1 of the sandbox, and a copy of sleep named "a) b" (a comm with a space
// and a parenthesis, which splitting on spaces would misread: awk '{print $22}'
// printed 0 for it).
import { describe, expect, it } from 'vitest';
import { epochOf, processStartTime } from '../../../src/vf/agent/epoch.js';

const INIT = '1 (process_api) S 0 0 0 0 -1 4194560 684812 99376052 0 3624 1307 6755 1885519 148215 20 0 14 0 25 44552192 3030 18446744073709551615 1 1 0 0 0 0 0 4096 1256 0 0 0 17 0 0 0 0 0 0 0 0 0 0 0 0 0 0\n';
const ODD =
  '18668 (a) b) S 18667 18664 8296 0 -1 4194304 142 0 0 0 0 0 0 0 20 0 1 0 1262933 2990080 424 18446744073709551615 94669093531648 94669093549577 140728897615744 0 0 0 0 6 0 1 0 0 17 1 0 0 0 0 0 94669093563664 94669093564928 94669566742528 140728897620718 140728897620730 140728897620730 140728897621998 0\n';

describe('processStartTime', () => {
  it('reads field 22 (starttime), counting from the last parenthesis', () => {
    expect(processStartTime(INIT)).toBe('25');
    expect(processStartTime(ODD)).toBe('1262933');
  });

  it('a truncated or empty line has no start time', () => {
    expect(processStartTime('')).toBeUndefined();
    expect(processStartTime('1 (x) S 0 0')).toBeUndefined();
  });
});

describe('epochOf', () => {
  it('depends on both the boot and the charon process, and on nothing else', () => {
    const a = epochOf('boot-1', 'pid 10 start 25');
    expect(epochOf('boot-1', 'pid 10 start 25')).toBe(a);
    expect(epochOf('boot-1', 'pid 10 start 26')).not.toBe(a);
    expect(epochOf('boot-2', 'pid 10 start 25')).not.toBe(a);
    expect(typeof a).toBe('bigint');
  });
});
