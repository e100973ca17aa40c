// The CLI's shape: every command's --help has examples, usage errors exit 2,
// and each error class maps to its documented exit code.
import { describe, expect, it } from 'vitest';
import type { Command } from 'commander';
import { CommanderError } from 'commander';
import { buildProgram, exitCodeOf } from '../../../src/cli/main.js';
import { EXIT } from '../../../src/cli/context.js';
import { ControlClientError } from '../../../src/daemon/control/client.js';
import { ConfigError } from '../../../src/daemon/config.js';
import { LogFilterError } from '../../../src/log/filter.js';

function all(cmd: Command, path: string[] = []): [string, Command][] {
  return [[path.join(' ') || '(program)', cmd], ...cmd.commands.flatMap((c) => all(c, [...path, c.name()]))];
}

function helpOf(cmd: Command): string {
  let text = '';
  cmd.configureOutput({ writeOut: (s) => (text += s), writeErr: (s) => (text += s) });
  cmd.outputHelp();
  return text;
}

describe('the program', () => {
  const { program } = buildProgram();

  it('has the commands the operator guide documents', () => {
    const names = all(program).map(([p]) => p);
    for (const c of ['daemon', 'status', 'sa list', 'sa show', 'sa promote', 'sa demote', 'sa unpin', 'device list', 'logs', 'wait', 'config check']) expect(names).toContain(c);
  });

  // Every command that does something (groups list their subcommands).
  it.each(all(buildProgram().program).filter(([, c]) => c.commands.length === 0))('%s --help shows examples', (_path, cmd) => {
    const help = helpOf(cmd);
    expect(help).toMatch(/\nExamples:\n {2}\S/);
    expect(help.slice(help.indexOf('Examples:'))).toContain('ipsec-offload ');
  });

  it('usage errors and help map to exit codes 2 and 0', async () => {
    const { program: p } = buildProgram();
    p.configureOutput({ writeOut: () => {}, writeErr: () => {} });
    const err = await p.parseAsync(['node', 'ipsec-offload', 'sa', 'list', '--state', 'sideways']).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(CommanderError);
    expect(exitCodeOf(err)).toEqual({ code: EXIT.usage });
    const help = await p.parseAsync(['node', 'ipsec-offload', 'status', '--help']).catch((e: unknown) => e);
    expect(exitCodeOf(help)).toEqual({ code: EXIT.ok });
  });
});

describe('exitCodeOf', () => {
  it.each([
    [new ControlClientError('ENODAEMON', 'not running'), EXIT.noDaemon],
    [new ControlClientError('EACCES', 'denied'), EXIT.permission],
    [new ControlClientError('ENOENT', 'no SA'), EXIT.notFound],
    [new ControlClientError('EINVAL', 'bad arg'), EXIT.usage],
    [new ControlClientError('ETIMEDOUT', 'slow'), EXIT.error],
    [new ConfigError('/x', ['a: b']), EXIT.config],
    [new LogFilterError('since', 'bad'), EXIT.usage],
    [new Error('boom'), EXIT.error],
  ])('%s', (e, code) => {
    expect(exitCodeOf(e)).toEqual({ code, message: (e as Error).message });
  });
});
