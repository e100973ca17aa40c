// Cooldowns: the hold-offs of the offload and xfrmi plan/execute loops.
import { describe, expect, it } from 'vitest';
import { Cooldowns } from '../../../src/daemon/cooldowns.js';

interface Act {
  kind: string;
  sa: string;
}
const key = (a: Act): string => `${a.kind}:${a.sa}`;
const promote = (sa: string): Act => ({ kind: 'promote', sa });

describe('Cooldowns', () => {
  it('holds an action off until its time, then lets it through and forgets it', () => {
    const c = new Cooldowns<Act>(key);
    c.hold(promote('a'), 1000);
    expect(c.due([promote('a'), promote('b')], 999)).toEqual([promote('b')]);
    expect(c.nextAfter(999)).toBe(1000);
    expect(c.due([promote('a'), promote('b')], 1000)).toEqual([promote('a'), promote('b')]);
    expect(c.nextAfter(0)).toBeUndefined();
  });

  it('matches a re-planned action object by its key, not by identity', () => {
    const c = new Cooldowns<Act>(key);
    c.hold(promote('a'), 50);
    expect(c.due([{ kind: 'promote', sa: 'a' }, { kind: 'demote', sa: 'a' }], 10)).toEqual([{ kind: 'demote', sa: 'a' }]);
  });

  it('clear lifts a hold-off at once; hold again replaces the time', () => {
    const c = new Cooldowns<Act>(key);
    c.hold(promote('a'), 100);
    c.clear(promote('a'));
    expect(c.due([promote('a')], 0)).toEqual([promote('a')]);
    c.hold(promote('a'), 100);
    c.hold(promote('a'), 30);
    expect(c.nextAfter(0)).toBe(30);
  });

  it('nextAfter is the earliest hold-off still running', () => {
    const c = new Cooldowns<Act>(key);
    c.hold(promote('a'), 300);
    c.hold(promote('b'), 200);
    c.hold(promote('c'), 100);
    expect(c.nextAfter(0)).toBe(100);
    expect(c.nextAfter(150)).toBe(200);
    expect(c.nextAfter(300)).toBeUndefined();
  });
});
