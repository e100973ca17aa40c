// `steer status|list|add|del|detach`: XDP VLAN/MAC steering on the uplinks.
// Through the daemon when it runs; `status`, `list` and `detach` also work
// without it, straight from the pins (root: bpffs and bpf() need it), since
// the programs stay attached after the daemon stops. The steering modules are
// loaded only on that path, so the CLI starts fast.
import { existsSync, readFileSync } from 'node:fs';
import { InvalidArgumentError, Option, type Command } from 'commander';
import { ControlClientError } from '../../daemon/control/client.js';
import type { SteerDetachReport } from '../../steer/steering.js';
import type { SteerFdbView, SteerListView, SteerStatusView } from '../../steer/views.js';
import type { PinBase, SteerDaemonView, SteerUplinkStatus } from '../../steer/daemon/views.js';
import type * as PinViews from '../../steer/daemon/views.js';
import type * as Steer from '../../steer/index.js';
import { EXIT, cliConfigPath, fail, type CliContext } from '../context.js';
import { age, bytes, table } from '../format.js';

/** What reading the pins needs, loaded on demand. */
interface PinModules {
  views: typeof PinViews;
  steer: typeof Steer;
}

const vlanOption = (): Option =>
  new Option('--vlan <id>', 'VLAN id on the uplink, 0 = untagged (default 0)').argParser((v: string) => {
    if (!/^\d+$/.test(v) || Number(v) > 4094) throw new InvalidArgumentError('a VLAN id 0..4094 (0 = untagged)');
    return Number(v);
  });

export function registerSteer(program: Command, ctx: CliContext): void {
  const steer = program
    .command('steer')
    .description('XDP VLAN/MAC steering on the uplinks: state, entries with counters, manual entries, detach')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer status',
        '  ipsec-offload steer list eth0',
        '  ipsec-offload steer add 02:00:00:00:01:01 --vlan 100 --port tap-vm1',
        '  ipsec-offload steer del 02:00:00:00:01:01 --vlan 100',
        '  ipsec-offload steer detach eth0',
        '',
        'status, list and detach work without a running daemon too (as root): they',
        'then read the pins directly, in steer.pin_root and netns of the config file',
        '($IPSEC_OFFLOAD_CONFIG, default /etc/ipsec-offload/config.yaml).',
      ].join('\n'),
    );

  steer
    .command('status [uplink]')
    .description('per uplink: steered?, XDP mode and program, egress, entries in use, per-verdict counters; the daemon\'s view')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer status',
        '  ipsec-offload steer status eth0 --json | jq \'.[0].verdicts.redirect\'',
        '',
        'Without a running daemon it reads the pins directly (as root); the daemon',
        'fields are then null. Verdicts with no packets are left out of the table',
        '(--json has them all).',
      ].join('\n'),
    )
    .action(async (uplink: string | undefined) => {
      const { value, local } = await viaDaemonOrPins(ctx, 'steer.status', uplink, (base, names, m) =>
        m.views.uplinkStatuses(names, base, () => null, undefined, uplink !== undefined),
      );
      const rows = value as SteerUplinkStatus[];
      ctx.out(rows, () => statusText(rows, local));
    });

  steer
    .command('list [uplink]')
    .description('fdb entries, ports and ESP exceptions of each uplink, with their counters')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer list',
        '  ipsec-offload steer list eth0 --json | jq \'.[0].fdb[] | select(.packets > 0)\'',
        '',
        'FDB: destination MAC + VLAN -> port; ACTION pop = the tag is removed on the way',
        '(access port); ORIGIN config, vf (from the PF\'s VF list) or manual (steer add).',
        'PORTS: the MAC a port must send from (- = unchecked), its access VLAN (0 = trunk),',
        'whose XDP program runs on it, frames from the uplink (RX) and to it (TX), spoofed',
        'and tagged frames dropped. ESP: SAs terminated here whose ESP goes to the kernel.',
        'Counters count since the entry was last written.',
        '',
        'Without a running daemon it reads the pins directly (as root).',
      ].join('\n'),
    )
    .action(async (uplink: string | undefined) => {
      const { value, local } = await viaDaemonOrPins(ctx, 'steer.list', uplink, (base, names, m) => m.views.uplinkListings(names, base, undefined, uplink !== undefined));
      const lists = value as SteerListView[];
      ctx.out(lists, () => (lists.length === 0 ? nothingPinned(local) : lists.map(listText).join('\n\n')));
    });

  steer
    .command('add <mac>')
    .description('a manual fdb entry: frames to <mac> (on --vlan) go to --port; kept until steer del, across restarts')
    .addOption(vlanOption())
    .requiredOption('--port <dev>', 'the port device (one of the uplink\'s ports, from the config or VF info)')
    .option('--uplink <dev>', 'the uplink (default: the one --port belongs to)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer add 02:00:00:00:01:01 --vlan 100 --port tap-vm1',
        '  ipsec-offload steer add 02:00:00:00:01:02 --port eth0_1 --uplink eth0',
        '',
        'The port must accept the VLAN (an access port only its own). An entry the',
        'config or VF info owns cannot be replaced here. Needs the daemon.',
      ].join('\n'),
    )
    .action(async (mac: string, o: { vlan?: number; port: string; uplink?: string }) => {
      const r = (await ctx.call('steer.add', { mac, port: o.port, ...(o.vlan !== undefined ? { vlan: o.vlan } : {}), ...(o.uplink ? { uplink: o.uplink } : {}) })) as {
        uplink: string;
        entry: SteerFdbView;
      };
      ctx.out(r, () => `added on ${r.uplink}:\n${fdbTable([r.entry])}`);
    });

  steer
    .command('del <mac>')
    .description('removes a manual fdb entry (steer add)')
    .addOption(vlanOption())
    .option('--uplink <dev>', 'the uplink (default: the one that has the entry)')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer del 02:00:00:00:01:01 --vlan 100',
        '',
        'Exit status 4 when there is no such entry. Entries from the config or VF info',
        'are changed there, not here. Needs the daemon.',
      ].join('\n'),
    )
    .action(async (mac: string, o: { vlan?: number; uplink?: string }) => {
      const r = (await ctx.call('steer.del', { mac, ...(o.vlan !== undefined ? { vlan: o.vlan } : {}), ...(o.uplink ? { uplink: o.uplink } : {}) })) as {
        uplink: string | null;
        deleted: boolean;
      };
      const key = `${mac} vlan ${o.vlan ?? 0}`;
      ctx.out(r, () => (r.deleted ? `deleted ${key} on ${r.uplink}` : `no entry ${key}${r.uplink ? ` on ${r.uplink}` : ''}`));
      if (!r.deleted) process.exitCode = EXIT.notFound;
    });

  steer
    .command('detach <uplink>')
    .description('removes everything steering created for the uplink: programs (uplink and ports), maps, pins')
    .addHelpText(
      'after',
      [
        '',
        'Examples:',
        '  ipsec-offload steer detach eth0',
        '',
        'Programs that are not ours are never touched, nor files in the pin directory',
        'that are not ours. The daemon then leaves the uplink alone until it restarts',
        'or a reload changes the uplink\'s config: remove it from steer.uplinks to keep',
        'it off. rx-vlan-offload stays as it is (ethtool -K DEV rxvlan on restores it).',
        'Works without a running daemon too (as root), from the pins. Exit status 4',
        'when nothing was pinned for the uplink.',
      ].join('\n'),
    )
    .action(async (uplink: string) => {
      const { value, local } = await viaDaemonOrPins(ctx, 'steer.detach', uplink, (base, _names, m) =>
        m.steer.detachSteering({ uplink, pinRoot: base.pinRoot, ...(base.netns ? { netns: base.netns } : {}) }),
      );
      const r = value as SteerDetachReport;
      ctx.out(r, () => detachText(r, local));
      if (!r.found) process.exitCode = EXIT.notFound;
    });
}

/** steer.pin_root, netns and the uplinks of the config file (YAML only: the daemon validates it). */
async function fileSettings(defaultPinRoot: string): Promise<{ pinRoot: string; netns?: string; uplinks: string[]; found: boolean }> {
  const path = cliConfigPath();
  const none = { pinRoot: defaultPinRoot, uplinks: [], found: false };
  if (!existsSync(path)) return none;
  try {
    const { parse } = await import('yaml');
    const c = parse(readFileSync(path, 'utf8')) as { netns?: unknown; steer?: { pin_root?: unknown; uplinks?: unknown } } | null;
    const uplinks = Array.isArray(c?.steer?.uplinks) ? (c.steer.uplinks as { device?: unknown }[]).map((u) => u?.device).filter((d): d is string => typeof d === 'string') : [];
    return {
      pinRoot: typeof c?.steer?.pin_root === 'string' ? c.steer.pin_root : defaultPinRoot,
      ...(typeof c?.netns === 'string' ? { netns: c.netns } : {}),
      uplinks,
      found: true,
    };
  } catch {
    return none;
  }
}

/**
 * Asks the daemon; when none runs, does the same from the pins (the config
 * file's steer.pin_root and netns), saying so on stderr.
 */
async function viaDaemonOrPins(
  ctx: CliContext,
  cmd: string,
  uplink: string | undefined,
  fromPins: (base: PinBase, names: string[], m: PinModules) => unknown,
): Promise<{ value: unknown; local: PinBase | undefined }> {
  try {
    return { value: await ctx.call(cmd, uplink !== undefined ? { uplink } : {}), local: undefined };
  } catch (e) {
    if (!(e instanceof ControlClientError && e.code === 'ENODAEMON')) throw e;
  }
  const m: PinModules = { views: await import('../../steer/daemon/views.js'), steer: await import('../../steer/index.js') };
  const file = await fileSettings(m.steer.DEFAULT_PIN_ROOT);
  const base: PinBase = { pinRoot: file.pinRoot, ...(file.netns ? { netns: { name: file.netns } } : {}) };
  process.stderr.write(`ipsec-offload: the daemon is not running: reading the pins in ${base.pinRoot}${file.found ? ` (config ${cliConfigPath()})` : ''}\n`);
  try {
    const names = m.views.uplinkNames(file.uplinks, base, uplink);
    return { value: fromPins(base, names, m), local: base };
  } catch (e) {
    if (e instanceof m.steer.SteerNotFoundError) fail(EXIT.notFound, e.message);
    if (e instanceof m.steer.SteerInvalidError) fail(EXIT.usage, (await import('../../steer/daemon/commands.js')).issuesMessage(e));
    if (e instanceof m.steer.SteerBpfError && (e.code === 'EPERM' || e.code === 'EACCES')) fail(EXIT.permission, `${e.message}: reading steering pins needs root`);
    throw e;
  }
}

function nothingPinned(local: PinBase | undefined): string {
  return local ? `nothing pinned in ${local.pinRoot}` : 'no steered uplinks (steer.uplinks in the config file)';
}

const counter = (c: { packets: number; bytes: number }): string => `${c.packets} pkts ${bytes(c.bytes)}`;

function daemonText(d: SteerDaemonView): string[] {
  const out: string[] = [];
  if (!d.configured) out.push('  daemon:   not in the config: left attached as it is (steer detach removes it)');
  else {
    const state = d.state === 'attached' ? 'steered' : d.state === 'detached' ? 'detached by steer detach (until a restart or a config change)' : 'NOT steered';
    out.push(`  daemon:   ${state}; mode ${d.mode ?? '-'}, rx_vlan_offload ${d.rxVlanOffload ?? '-'}`);
  }
  if (d.attach) out.push(`  attach:   ${d.attach.action} (${d.attach.mode}), ${d.attach.reusedMaps.length} pinned maps reused`);
  if (d.vlanOffload && d.vlanOffload.action !== 'ok') out.push(`  vlan:     ${d.vlanOffload.action}: ${d.vlanOffload.message ?? ''}`);
  if (d.lastReconcile) {
    const r = d.lastReconcile;
    out.push(`  reconcile: ${age(r.secondsAgo)} ago (${r.reason}): ${r.applied} ops, ${r.esp} ESP exceptions wanted`);
    for (const i of r.issues) out.push(`  ! ${i.at}: ${i.message}`);
    for (const v of r.skippedVfs) out.push(`  ! VF ${v.vf}: ${v.reason}`);
  }
  if (d.error) out.push(`  ! ${d.error.op} failed ${age(d.error.secondsAgo)} ago: ${d.error.message} (retried)`);
  return out;
}

function xdpText(s: SteerStatusView): string {
  if (s.ifindex === 0) return 'device gone';
  if (s.xdp.programId === null) return 'no XDP program';
  if (!s.xdp.ours) return `FOREIGN XDP program id ${s.xdp.programId} (not ours: left alone)`;
  return `steer_ingress id ${s.xdp.programId} (${s.xdp.mode ?? '?'}, tag ${s.programs.ingress?.tag ?? '?'})`;
}

export function statusText(rows: readonly SteerUplinkStatus[], local: PinBase | undefined): string {
  if (rows.length === 0) return nothingPinned(local);
  return rows
    .map((r) => {
      if (!r.pinned) return [`${r.uplink}: nothing pinned`, ...(r.daemon ? daemonText(r.daemon) : [])].join('\n');
      const e = r.entries;
      const lines = [
        `${r.uplink} (ifindex ${r.ifindex}, ${r.netns}): ${xdpText(r)}`,
        `  egress:   ${r.egress.installed ? `steer_egress id ${r.egress.programId ?? '?'}` : r.egress.programId ? `program id ${r.egress.programId} (not this build's)` : 'not installed'}`,
        `  entries:  fdb ${e.fdb.count}/${e.fdb.max}, ports ${e.ports.count}/${e.ports.max}, esp ${e.esp.count}/${e.esp.max}`,
        `  pins:     ${r.pinDir}`,
        ...(r.daemon ? daemonText(r.daemon) : []),
      ];
      const verdicts = Object.entries(r.verdicts).filter(([, c]) => c.packets > 0);
      lines.push(
        verdicts.length === 0
          ? '  verdicts: none yet'
          : table(['  VERDICT', 'PACKETS', 'BYTES'], verdicts.map(([name, c]) => [`  ${name}`, String(c.packets), bytes(c.bytes)])),
      );
      return lines.join('\n');
    })
    .join('\n\n');
}

function fdbTable(rows: readonly SteerFdbView[]): string {
  return table(
    ['MAC', 'VLAN', 'PORT', 'ACTION', 'ORIGIN', 'PACKETS', 'BYTES'],
    rows.map((f) => [f.mac, String(f.vlan), f.port ?? `ifindex ${f.ifindex} (gone)`, f.strip ? 'pop' : 'keep', f.origin, String(f.packets), bytes(f.bytes)]),
  );
}

export function listText(l: SteerListView): string {
  const out = [`uplink ${l.uplink} (ifindex ${l.ifindex})`];
  out.push(l.fdb.length ? fdbTable(l.fdb) : 'no fdb entries');
  out.push('');
  out.push(
    l.ports.length
      ? table(
          ['PORT', 'IFINDEX', 'MAC', 'VLAN', 'XDP', 'RX', 'TX', 'SPOOFED', 'TAGGED'],
          l.ports.map((p) => [
            p.device ?? '(gone)',
            String(p.ifindex),
            p.mac ?? '-',
            String(p.vlan),
            p.xdp,
            counter({ packets: p.counters.rxPackets, bytes: p.counters.rxBytes }),
            counter({ packets: p.counters.txPackets, bytes: p.counters.txBytes }),
            String(p.counters.spoofed),
            String(p.counters.tagged),
          ]),
        )
      : 'no ports',
  );
  out.push('');
  out.push(
    l.esp.length
      ? table(
          ['ESP VLAN', 'DADDR', 'SPI', 'PACKETS', 'BYTES'],
          l.esp.map((x) => [String(x.vlan), x.daddr, x.spiHex, String(x.packets), bytes(x.bytes)]),
        )
      : 'no ESP exceptions',
  );
  return out.join('\n');
}

function detachText(r: SteerDetachReport, local: PinBase | undefined): string {
  if (!r.found) return `nothing pinned for ${r.uplink} at ${r.pinDir}${local ? '' : ' (the daemon found nothing to detach)'}`;
  const xdp =
    r.uplinkXdp === 'detached'
      ? 'steer_ingress removed'
      : r.uplinkXdp === 'foreign'
        ? 'another XDP program runs there: left alone'
        : r.uplinkXdp === 'device gone'
          ? 'the device is gone'
          : 'no program was attached';
  return [
    `${r.uplink}: ${xdp}; ${r.portsDetached.length} port programs removed; ${r.pinsRemoved.length} pins removed from ${r.pinDir}`,
    ...(r.pinsLeft.length ? [`left in place (not ours): ${r.pinsLeft.join(', ')}`] : []),
  ].join('\n');
}
