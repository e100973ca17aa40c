// The config file's error, apart from the parser so the CLI can recognise it
// without loading yaml and zod.

export class ConfigError extends Error {
  override readonly name = 'ConfigError';
  constructor(
    readonly path: string,
    readonly problems: string[],
  ) {
    super(`invalid config ${path}:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
  }
}
