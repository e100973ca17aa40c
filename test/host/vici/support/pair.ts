// Two charons, A (initiator) and B (responder), in two network namespaces
// joined by a veth: 10.0.0.1 <-> 10.0.0.2, PSK authentication. With the
// libipsec datapath each side also owns a /32 on lo (10.1.1.1, 10.1.2.1) so
// tunnel-mode CHILD_SAs between 10.1.1.0/24 and 10.1.2.0/24 carry pings.
import { Charon, Netns, type Datapath } from './charon.js';

export interface ChildSpec {
  name: string;
  /** swanctl.conf child settings for both sides, one per line (no ';' separators) */
  settings?: Record<string, string>;
  /**
   * Narrow the selectors to UDP port 10000+n (n = position, from 1), so many
   * children can coexist. Default: when there is more than one child.
   */
  portSelector?: boolean;
}

export interface PairOptions {
  datapath: Datapath;
  /** number of children c1..cN (each with its own UDP port selector when N > 1), or explicit specs */
  children?: number | ChildSpec[];
  /** settings added to every child on A and B */
  childSettings?: Record<string, string>;
  /** extra lines in charon { } for both */
  charonExtra?: string;
  /** run swanctl --load-all on both after start (default true) */
  load?: boolean;
}

export interface CharonPair {
  a: Charon;
  b: Charon;
  nsA: Netns;
  nsB: Netns;
  destroy(): Promise<void>;
}

export const PSK = 'vici-host-test-psk-0123456789';

function block(name: string, settings: Record<string, string>, inner: string[] = [], indent = ''): string[] {
  return [`${indent}${name} {`, ...Object.entries(settings).map(([k, v]) => `${indent}  ${k} = ${v}`), ...inner, `${indent}}`];
}

export function childSpecs(opts: PairOptions): ChildSpec[] {
  if (Array.isArray(opts.children)) return opts.children;
  const n = opts.children ?? 1;
  return Array.from({ length: n }, (_, i) => ({ name: `c${i + 1}` }));
}

function swanctlConf(side: 'A' | 'B', opts: PairOptions): string {
  const [local, remote, localId, remoteId] = side === 'A' ? ['10.0.0.1', '10.0.0.2', 'a@vici', 'b@vici'] : ['10.0.0.2', '10.0.0.1', 'b@vici', 'a@vici'];
  const [lnet, rnet] = side === 'A' ? ['10.1.1.0/24', '10.1.2.0/24'] : ['10.1.2.0/24', '10.1.1.0/24'];
  const specs = childSpecs(opts);
  const children = specs.flatMap((c, i) => {
    const base: Record<string, string> =
      opts.datapath === 'libipsec'
        ? { mode: 'tunnel', esp_proposals: 'aes128gcm16', start_action: 'none' }
        : { mode: 'transport', esp_proposals: 'aes128gcm16', start_action: 'none' };
    const port = c.portSelector ?? specs.length > 1 ? `[udp/${10000 + i + 1}]` : '';
    if (opts.datapath === 'libipsec') {
      base.local_ts = `${lnet}${port}`;
      base.remote_ts = `${rnet}${port}`;
    } else if (port) {
      base.local_ts = `${local}/32${port}`;
      base.remote_ts = `${remote}/32${port}`;
    }
    return block(c.name, { ...base, ...opts.childSettings, ...c.settings }, [], '      ');
  });
  const conn = block(
    'lab',
    { version: '2', local_addrs: local, remote_addrs: remote, proposals: 'aes128gcm16-prfsha256-x25519' },
    [...block('local', { auth: 'psk', id: localId }, [], '    '), ...block('remote', { auth: 'psk', id: remoteId }, [], '    '), '    children {', ...children, '    }'],
    '  ',
  );
  const secrets = block('ike-lab', { 'id-a': 'a@vici', 'id-b': 'b@vici', secret: `"${PSK}"` }, [], '  ');
  return ['connections {', ...conn, '}', 'secrets {', ...secrets, '}', ''].join('\n');
}

export async function charonPair(opts: PairOptions): Promise<CharonPair> {
  const nsA = Netns.create('vciA');
  const nsB = Netns.create('vciB');
  const charons: Charon[] = [];
  const destroy = async (): Promise<void> => {
    for (const c of charons) await c.destroy();
    nsA.delete();
    nsB.delete();
  };
  try {
    const veth = `vv${nsA.name.slice(-6)}`;
    nsA.ip('link', 'add', `${veth}a`, 'type', 'veth', 'peer', 'name', `${veth}b`, 'netns', nsB.name);
    nsA.ip('addr', 'add', '10.0.0.1/24', 'dev', `${veth}a`);
    nsB.ip('addr', 'add', '10.0.0.2/24', 'dev', `${veth}b`);
    nsA.ip('link', 'set', `${veth}a`, 'up');
    nsB.ip('link', 'set', `${veth}b`, 'up');
    if (opts.datapath === 'libipsec') {
      nsA.ip('addr', 'add', '10.1.1.1/32', 'dev', 'lo');
      nsB.ip('addr', 'add', '10.1.2.1/32', 'dev', 'lo');
    }
    const a = new Charon({ name: 'A', netns: nsA, datapath: opts.datapath, swanctlConf: swanctlConf('A', opts), ...(opts.charonExtra ? { charonExtra: opts.charonExtra } : {}) });
    charons.push(a);
    const b = new Charon({ name: 'B', netns: nsB, datapath: opts.datapath, swanctlConf: swanctlConf('B', opts), ...(opts.charonExtra ? { charonExtra: opts.charonExtra } : {}) });
    charons.push(b);
    await Promise.all([a.start(), b.start()]);
    if (opts.load !== false) {
      a.swanctl(['--load-all']);
      b.swanctl(['--load-all']);
    }
    return { a, b, nsA, nsB, destroy };
  } catch (e) {
    await destroy();
    throw e;
  }
}
