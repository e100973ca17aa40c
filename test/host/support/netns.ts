// Throwaway network namespaces for host tests: unique names, always removed.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';

export function sh(cmd: string, args: readonly string[]): string {
  return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
}

export class TestNetns {
  readonly name: string;
  constructor(prefix: string) {
    this.name = `${prefix}-${randomBytes(4).toString('hex')}`;
    sh('ip', ['netns', 'add', this.name]);
    sh('ip', ['-n', this.name, 'link', 'set', 'lo', 'up']);
  }
  /** `ip -n <ns> ...` */
  ip(...args: string[]): string {
    return sh('ip', ['-n', this.name, ...args]);
  }
  remove(): void {
    try {
      sh('ip', ['netns', 'del', this.name]);
    } catch {
      // already gone
    }
  }
}
