// Captures the golden VICI byte streams under test/unit/vici/fixtures/ from
// real charon 5.9.8 on this host. A new capture has new SPIs, SPI-derived
// numbers and times: the unit tests that assert on them must follow.
// Run as root:
//
//   npx tsx test/host/vici/support/capture-fixtures.ts
//
// swanctl (strongSwan's own libvici client) is traced with strace, so both
// directions are exactly what swanctl sent and charon answered. Broadcast
// events that no swanctl command registers (ike-rekey, child-rekey) and the
// CMD_UNKNOWN / EVENT_UNKNOWN replies are recorded from a plain net.Socket
// that sends hand-framed register/request packets and keeps every byte charon
// writes back, before any parsing.
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { encodePacket, PacketType } from '../../../../src/vici/wire/packet.js';
import { run, sleep, type Charon } from './charon.js';
import { charonPair } from './pair.js';

// VICI_FIXTURES_OUT writes elsewhere (to try the script without replacing the committed fixtures).
const OUT = process.env.VICI_FIXTURES_OUT ?? resolve(import.meta.dirname, '../../../unit/vici/fixtures');

interface Fixture {
  description: string;
  capturedWith: string;
  strongswan: string;
  kernel: string;
  datapath: string;
  date: string;
  /** bytes the client wrote to the VICI socket, hex */
  toCharon: string;
  /** bytes charon wrote back, hex */
  fromCharon: string;
}

const meta = {
  strongswan: `charon ${run('dpkg-query', ['-W', '-f=${Version}', 'strongswan-charon']).stdout} (Debian package)`,
  kernel: `Linux ${run('uname', ['-r']).stdout.trim()}`,
  datapath: 'kernel-libipsec (userspace ESP): two charons in two netns over a veth, PSK, aes128gcm16',
  date: new Date().toISOString().slice(0, 10),
};

function save(name: string, f: Omit<Fixture, keyof typeof meta> & { cmd?: string }): void {
  const { description, capturedWith, toCharon, fromCharon } = f;
  writeFileSync(join(OUT, `${name}.json`), `${JSON.stringify({ description, capturedWith, ...meta, toCharon, fromCharon }, null, 2)}\n`);
  console.log(`${name}.json: ${f.toCharon.length / 2} bytes out, ${f.fromCharon.length / 2} bytes in`);
}

/** Runs swanctl under strace and returns the bytes it exchanged over the VICI socket. */
function traced(c: Charon, args: string[], allowFail = false): { toCharon: string; fromCharon: string; cmd: string } {
  const dir = mkdtempSync(join(tmpdir(), 'vici-strace-'));
  const stracePrefix = join(dir, 't');
  const straceArgs = ['-ff', '-ttt', '-qq', '-o', stracePrefix, '-e', 'trace=connect,sendto,recvfrom', '-xx', '-s', '1048576'];
  run('strace', [...straceArgs, 'swanctl', ...args], {
    env: { STRONGSWAN_CONF: c.confPath, SWANCTL_DIR: join(c.dir, 'swanctl') },
    allowFail,
  });
  const records: { t: number; dir: 'out' | 'in'; data: Buffer }[] = [];
  const files = readdirSync(dir).map((f) => join(dir, f));
  let fd: string | undefined;
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^[\d.]+ connect\((\d+), \{sa_family=AF_UNIX, sun_path="([^"]*)"/.exec(line);
      if (m && hexBytes(m[2] as string).toString() === c.socketPath) fd = m[1];
    }
  }
  if (!fd) throw new Error(`swanctl ${args.join(' ')} did not connect to ${c.socketPath}`);
  for (const f of files) {
    for (const line of readFileSync(f, 'utf8').split('\n')) {
      const m = /^([\d.]+) (sendto|recvfrom)\((\d+), "([^"]*)", \d+, .*\) = (-?\d+)/.exec(line);
      if (!m || m[3] !== fd || Number(m[5]) <= 0) continue;
      const data = hexBytes(m[4] as string).subarray(0, Number(m[5]));
      records.push({ t: Number(m[1]), dir: m[2] === 'sendto' ? 'out' : 'in', data });
    }
  }
  rmSync(dir, { recursive: true, force: true });
  records.sort((x, y) => x.t - y.t);
  const join_ = (d: 'out' | 'in'): string => Buffer.concat(records.filter((r) => r.dir === d).map((r) => r.data)).toString('hex');
  const shown = straceArgs.map((a) => (a === stracePrefix ? '<tmpdir>/t' : a));
  return { toCharon: join_('out'), fromCharon: join_('in'), cmd: `strace ${shown.join(' ')} swanctl ${args.join(' ')}` };
}

function hexBytes(s: string): Buffer {
  return Buffer.from(s.replace(/\\x/g, ''), 'hex');
}

/** A raw socket that writes given packets and records every byte charon sends back. */
class Recorder {
  readonly sent: Buffer[] = [];
  readonly received: Buffer[] = [];
  readonly #sock: Socket;
  readonly ready: Promise<void>;

  constructor(path: string) {
    this.#sock = connect({ path });
    this.#sock.on('data', (b: Buffer) => this.received.push(b));
    this.ready = new Promise((r) => this.#sock.once('connect', () => r()));
  }

  send(type: PacketType, name: string): void {
    const seg = encodePacket({ type, name, ...(type === PacketType.CMD_REQUEST ? { message: Buffer.alloc(0) } : {}) });
    this.sent.push(seg);
    this.#sock.write(seg);
  }

  get bytesIn(): number {
    return this.received.reduce((n, b) => n + b.length, 0);
  }

  close(): void {
    this.#sock.destroy();
  }
}

async function main(): Promise<void> {
  const pair = await charonPair({
    datapath: 'libipsec',
    load: false,
    children: [
      { name: 'c1', portSelector: false, settings: { mark_in: '0x2a/0xff', mark_out: '0x2b', if_id_in: '7', if_id_out: '0x1234' } },
      { name: 'c2' },
    ],
  });
  const { a, b } = pair;
  try {
    b.swanctl(['--load-all']);
    a.swanctl(['--load-creds']);

    let t = traced(a, ['--load-conns']);
    save('load-conn', { description: 'swanctl --load-conns: one load-conn request (connection "lab" with children c1, c2) and its success reply', capturedWith: t.cmd, ...t });
    t = traced(a, ['--version', '--daemon']);
    save('version', { description: 'swanctl --version --daemon: version command and reply', capturedWith: t.cmd, ...t });
    t = traced(a, ['--stats']);
    save('stats', { description: 'swanctl --stats: stats command and reply', capturedWith: t.cmd, ...t });

    // Broadcast events, recorded raw from their own connection.
    const ev = new Recorder(a.socketPath);
    await ev.ready;
    for (const name of ['ike-updown', 'child-updown', 'ike-rekey', 'child-rekey']) ev.send(PacketType.EVENT_REGISTER, name);
    await sleep(300);

    t = traced(a, ['--initiate', '--child', 'c1', '--timeout', '20']);
    save('initiate', {
      description: 'swanctl --initiate --child c1: control-log registration, initiate request, the streamed control-log events, success reply, unregistration',
      capturedWith: t.cmd,
      ...t,
    });
    a.swanctl(['--initiate', '--child', 'c2', '--timeout', '20']);
    a.netns.exec('ping', ['-c', '3', '-i', '0.2', '-I', '10.1.1.1', '10.1.2.1']);
    await sleep(1100); // let use-in/use-out and install-time tick

    t = traced(a, ['--list-sas']);
    save('list-sas', { description: 'swanctl --list-sas: one IKE_SA "lab" with INSTALLED CHILD_SAs c1 (marks, if-ids, traffic) and c2', capturedWith: t.cmd, ...t });
    t = traced(a, ['--list-conns']);
    save('list-conns', { description: 'swanctl --list-conns: list-conn stream for connection "lab"', capturedWith: t.cmd, ...t });
    t = traced(a, ['--terminate', '--ike', 'no-such-ike', '--timeout', '5'], true);
    save('terminate-failed', { description: 'swanctl --terminate --ike no-such-ike: a success=no reply with errmsg', capturedWith: t.cmd, ...t });

    a.swanctl(['--rekey', '--child', 'c1']);
    await sleep(1500);
    a.swanctl(['--rekey', '--ike', 'lab']);
    await sleep(1500);
    a.swanctl(['--terminate', '--child', 'c2', '--timeout', '10']);
    await sleep(500);
    a.swanctl(['--terminate', '--ike', 'lab', '--timeout', '10']);
    await sleep(800);
    ev.close();
    save('events', {
      description:
        'raw net.Socket: EVENT_REGISTER ike-updown, child-updown, ike-rekey, child-rekey (sent back to back), then: initiate c1 and c2 (ike-updown up, child-updown up x2), rekey child c1 (child-rekey), rekey IKE lab (ike-rekey), terminate child c2 (child-updown down), terminate IKE lab (ike-updown down, child-updown down)',
      capturedWith: 'node net.Socket writing encodePacket() segments, recording every received chunk unparsed',
      toCharon: Buffer.concat(ev.sent).toString('hex'),
      fromCharon: Buffer.concat(ev.received).toString('hex'),
    });

    const unk = new Recorder(a.socketPath);
    await unk.ready;
    unk.send(PacketType.CMD_REQUEST, 'no-such-command');
    unk.send(PacketType.EVENT_REGISTER, 'no-such-event');
    unk.send(PacketType.EVENT_REGISTER, 'log');
    await sleep(200);
    a.swanctl(['--reload-settings']);
    await sleep(500);
    unk.close();
    save('unknown-and-log', {
      description:
        'raw net.Socket: CMD_REQUEST no-such-command (CMD_UNKNOWN), EVENT_REGISTER no-such-event (EVENT_UNKNOWN), EVENT_REGISTER log (EVENT_CONFIRM), then the log events of a swanctl --reload-settings',
      capturedWith: 'node net.Socket writing encodePacket() segments, recording every received chunk unparsed',
      toCharon: Buffer.concat(unk.sent).toString('hex'),
      fromCharon: Buffer.concat(unk.received).toString('hex'),
    });
  } finally {
    await pair.destroy();
  }
}

await main();
