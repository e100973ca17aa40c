// The control side of steering: steering's typed errors become control
// errors with the codes the CLI maps to exit statuses (an invalid request
// lists each issue on its own line), and the map operations the real planner
// plans are logged one line each.
import { describe, expect, it } from 'vitest';
import { ControlCommandError } from '../../../src/daemon/control/protocol.js';
import { exitCodeOf } from '../../../src/cli/main.js';
import { ControlClientError } from '../../../src/daemon/control/client.js';
import {
  SteerBpfError,
  SteerConflictError,
  SteerDeviceError,
  SteerInvalidError,
  SteerNotFoundError,
  SteerPinError,
  SteerUsageError,
  planSteer,
} from '../../../src/steer/index.js';
import { steerControlError } from '../../../src/steer/daemon/commands.js';
import { SteerNotManagedError, opsText } from '../../../src/steer/daemon/service.js';

describe('steerControlError', () => {
  const cases: [string, Error, string, number][] = [
    ['invalid', new SteerInvalidError([{ at: 'add', message: 'VLAN 5 is not p1’s access VLAN 100' }, { at: 'add', message: 'second' }]), 'EINVAL', 2],
    ['nothing pinned', new SteerNotFoundError('eth0', '/sys/fs/bpf/ipsec-offload/eth0'), 'ENOENT', 4],
    ['not managed', new SteerNotManagedError('eth9', 'is not a steered uplink of this daemon (configured: eth0)'), 'ENOENT', 4],
    ['foreign program', new SteerConflictError('eth0', 42), 'EBUSY', 1],
    ['no device', new SteerDeviceError('tap9', 'netns h'), 'ENODEV', 1],
    ['upgrade pending', new SteerUsageError('steer add: a new build of the programs is loaded'), 'EAGAIN', 1],
    ['pins', new SteerPinError('/x', 'not on a bpf filesystem'), 'EIO', 1],
    ['bpf', new SteerBpfError('update steer_fdb', { errno: 7, code: 'E2BIG', message: 'map full' }), 'E2BIG', 1],
  ];

  it.each(cases)('%s -> %s, and the CLI exit status', (_n, e, code, exit) => {
    const c = steerControlError(e);
    expect(c).toBeInstanceOf(ControlCommandError);
    expect((c as ControlCommandError).code).toBe(code);
    // what the CLI makes of the same code coming back over the socket
    expect(exitCodeOf(new ControlClientError(code, (c as ControlCommandError).message)).code).toBe(exit);
  });

  it('an invalid request lists each issue on its own line', () => {
    const c = steerControlError(cases[0]?.[1]) as ControlCommandError;
    expect(c.message).toBe('invalid steering request:\n  - add: VLAN 5 is not p1’s access VLAN 100\n  - add: second');
  });

  it('anything else is passed through unchanged', () => {
    const e = new TypeError('x');
    expect(steerControlError(e)).toBe(e);
  });
});

describe('opsText: the planned operations, one line each', () => {
  it('renders a fresh uplink’s plan (from the real planner) in execution order', () => {
    const plan = planSteer(
      { uplink: 2, ports: [], devmap: [2], fdb: [], esp: [], portXdp: new Map() },
      {
        uplink: 2,
        ports: [{ device: 'p1', ifindex: 5, vlan: 100, mac: '02:00:00:00:01:01' }],
        fdb: [{ mac: '02:00:00:00:01:01', vlan: 100, device: 'p1', ifindex: 5, origin: 'config' }],
        esp: [{ vlan: 100, daddr: '10.0.0.1', spi: 0xc0c4307c }],
      },
    );
    expect(plan.issues).toEqual([]);
    expect(opsText(plan.ops.map((op) => (op.op === 'port-attach' ? { op, mode: 'native' as const } : { op })))).toEqual([
      'esp-add vlan 100 10.0.0.1 spi 0xc0c4307c',
      'port-stats-reset slot 0',
      'port-set p1 vlan 100 mac 02:00:00:00:01:01',
      'devmap-set p1',
      'port-attach p1 (native)',
      'fdb-set 02:00:00:00:01:01 vlan 100 -> ifindex 5 (pop) [config]',
    ]);
  });

  it('caps a long list', () => {
    const plan = planSteer(
      { uplink: 2, ports: [], devmap: [2], fdb: [], esp: [], portXdp: new Map() },
      { uplink: 2, ports: [], fdb: [], esp: Array.from({ length: 50 }, (_, i) => ({ vlan: 0, daddr: '10.0.0.1', spi: i + 1 })) },
    );
    const lines = opsText(plan.ops.map((op) => ({ op })));
    expect(lines).toHaveLength(41);
    expect(lines.at(-1)).toBe('... and 10 more');
  });
});
