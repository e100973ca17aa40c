// The "keys never in logs" check for any lab test. Guest side, one line at the
// top of the scenario script:
//     key_guard            # (test/lab/guest/lib.sh) samples every SA key in every netns
//                          # while the script runs; at exit greps every file under
//                          # $LAB_RUN/logs and $LAB_RESULTS for them
// Host side, in the test:
//     it('no key in any log or CLI output', () => expectNoKeyLeaks(run));
import { expect } from 'vitest';
import type { LabRun } from './scenario.js';

export interface KeyAudit {
  /** distinct keys seen in `ip xfrm state` during the run */
  keys: number;
  /** log and result files searched */
  files: number;
  /** the first 8 hex digits of each key found in a file; empty when none */
  leaks: string;
}

/** Asserts the scenario's key audit ran over at least `minKeys` keys and found none in any file. */
export function expectNoKeyLeaks(run: LabRun, name = 'keys', minKeys = 1): KeyAudit {
  const a = run.json<KeyAudit>(name);
  expect(a.keys, 'the audit saw no keys: did the scenario run key_guard and bring SAs up?').toBeGreaterThanOrEqual(minKeys);
  expect(a.files).toBeGreaterThan(0);
  expect(a.leaks, 'key material found in these files (grep the run dir for the prefixes)').toBe('');
  return a;
}
