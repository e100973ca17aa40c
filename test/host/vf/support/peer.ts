// A scripted mailbox peer for host tests: connects to the PF (unix socket or
// TLS), runs the steps given as JSON in argv[2], prints one JSON line per
// step with what came back. Run under `ip netns exec NS` to be a peer in that
// namespace. It speaks the protocol through the real client, or sends raw
// bytes (a malicious tenant).
import { MailboxClient, MailboxClosedError, MailboxRefusedError } from '../../../../src/vf/agent/client.js';
import { childInput } from '../../../../src/vf/protocol/codec.js';
import type { FrameInput } from '../../../../src/vf/protocol/codec.js';
import type { RequestKind } from '../../../../src/vf/protocol/constants.js';
import type { VfAgentConfig } from '../../../../src/vf/config.js';
import { child, type ChildOpts } from '../../../unit/vf/builders.js';
import { createConnection } from 'node:net';

export type Step =
  | { req: 'hello'; epoch: string }
  | { req: 'sa.add'; child: ChildOpts }
  | { req: 'sa.del'; uniqueid: number }
  | { req: 'heartbeat' | 'bye' }
  | { req: 'sync'; uniqueids: number[] }
  | { sleep: number }
  /** n heartbeats at once, without waiting for answers */
  | { flood: number }
  /** raw bytes on a fresh unix connection: what comes back (hex) within 1 s */
  | { raw: string };

export interface Script {
  pf: VfAgentConfig['pf'];
  steps: Step[];
}

const out = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v, (_k, x: unknown) => (typeof x === 'bigint' ? x.toString() : x))}\n`);

async function raw(path: string, hex: string): Promise<string> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    let got = Buffer.alloc(0);
    s.on('data', (b: Buffer) => (got = Buffer.concat([got, b])));
    s.on('error', () => undefined);
    s.on('connect', () => s.write(Buffer.from(hex, 'hex')));
    const done = (): void => resolve(got.toString('hex'));
    s.on('close', done);
    setTimeout(() => {
      s.destroy();
      done();
    }, 1000);
  });
}

async function main(): Promise<void> {
  const script = JSON.parse(process.argv[2] ?? '{}') as Script;
  let client: MailboxClient | undefined;
  try {
    client = await MailboxClient.connect(script.pf, 10_000);
  } catch (e) {
    out({ step: 'connect', ok: false, error: (e as Error).message });
  }
  let closed: string | undefined;
  client?.on('close', (r) => (closed = r));
  for (const step of script.steps) {
    if ('sleep' in step) {
      await new Promise((r) => setTimeout(r, step.sleep));
      continue;
    }
    if ('flood' in step) {
      if (!client) continue;
      const c = client;
      const rs = await Promise.allSettled(Array.from({ length: step.flood }, () => c.request('heartbeat')));
      const reasons = rs.map((r) => (r.status === 'fulfilled' ? 'ok' : r.reason instanceof MailboxRefusedError ? r.reason.reason : 'closed'));
      out({ step: 'flood', ok: reasons.filter((x) => x === 'ok').length, busy: reasons.filter((x) => x === 'busy').length, closed: reasons.filter((x) => x === 'closed').length });
      continue;
    }
    if ('raw' in step) {
      out({ step: 'raw', got: await raw(script.pf.unix as string, step.raw) });
      continue;
    }
    if (!client) continue;
    const attrs: FrameInput =
      step.req === 'hello' ? { epoch: BigInt(`0x${step.epoch}`), agent: 'host-test peer' } : step.req === 'sa.add' ? { child: childInput(child(step.child)) } : step.req === 'sa.del' ? { uniqueid: step.uniqueid } : step.req === 'sync' ? { uniqueids: step.uniqueids } : {};
    try {
      const r = await client.request(step.req as RequestKind, attrs);
      out({ step: step.req, ok: true, attrs: r.attrs });
    } catch (e) {
      if (e instanceof MailboxRefusedError) out({ step: step.req, ok: false, reason: e.reason, message: e.detail });
      else if (e instanceof MailboxClosedError) out({ step: step.req, ok: false, closed: e.message });
      else throw e;
    }
  }
  await new Promise((r) => setTimeout(r, 100));
  out({ step: 'end', closed: closed ?? null });
  client?.close('done');
}

void main().then(() => process.exit(0));
