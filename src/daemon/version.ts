// The package version (package.json). Depends on nothing else in the daemon,
// so the CLI can print it without loading the daemon's modules.
import { readFileSync } from 'node:fs';

let version: string | undefined;

export function packageVersion(): string {
  version ??= (JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string }).version;
  return version;
}
