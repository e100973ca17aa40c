// The package version, read without loading the daemon (the CLI starts faster).
import { readFileSync } from 'node:fs';

export function cliVersion(): string {
  return (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
}
