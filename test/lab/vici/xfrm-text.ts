// `ip xfrm state` (iproute2) as an independent witness of what charon
// installed: the text parsed into the fields the VICI tests compare, with the
// key material dropped on the spot (results must never hold a key).
import { execFileSync } from 'node:child_process';

export interface KernelSa {
  src: string;
  dst: string;
  proto: string;
  /** host-order value of the network SPI, as `ip` prints it (0x...) */
  spi: number;
  reqid: number;
  mode: string;
  /** `flag ...` words (e.g. esn, af-unspec) */
  flags: string[];
  replayWindow: number;
  /** AEAD algorithm name and ICV length in bits, without the key */
  aead?: { name: string; icvBits: number };
  /** the ESN replay context iproute2 prints for ESN states */
  esnContext: boolean;
  /** the `sel` line (selector), as printed */
  sel: string;
}

export function parseXfrmStates(text: string): KernelSa[] {
  const out: KernelSa[] = [];
  for (const block of text.split(/^(?=src )/m)) {
    const head = /^src (\S+) dst (\S+)/.exec(block);
    if (!head) continue;
    const id = /proto (\S+) spi 0x([0-9a-f]+) reqid (\d+) mode (\S+)/.exec(block);
    if (!id) throw new Error(`unexpected ip xfrm state block: ${block.split('\n')[0]}`);
    const replay = /replay-window (\d+)(?: flag ([^\n]+))?/.exec(block);
    const aead = /aead (\S+) 0x[0-9a-f]+ (\d+)/.exec(block);
    const sa: KernelSa = {
      src: head[1] as string,
      dst: head[2] as string,
      proto: id[1] as string,
      spi: parseInt(id[2] as string, 16),
      reqid: Number(id[3]),
      mode: id[4] as string,
      flags: replay?.[2]?.trim().split(/\s+/) ?? [],
      replayWindow: Number(replay?.[1] ?? 0),
      esnContext: /anti-replay esn context/.test(block),
      sel: /^\s*sel (.*?)\s*$/m.exec(block)?.[1] ?? '',
    };
    if (aead) sa.aead = { name: aead[1] as string, icvBits: Number(aead[2]) };
    out.push(sa);
  }
  return out;
}

/** The SAs in network namespace `ns`, read with iproute2. */
export function kernelSas(ns: string): KernelSa[] {
  return parseXfrmStates(execFileSync('ip', ['-n', ns, 'xfrm', 'state'], { encoding: 'utf8', maxBuffer: 1 << 28 }));
}

/** Number of policies in `ns` (one `src ...` line each). */
export function kernelPolicyCount(ns: string): number {
  return execFileSync('ip', ['-n', ns, 'xfrm', 'policy'], { encoding: 'utf8', maxBuffer: 1 << 28 })
    .split('\n')
    .filter((l) => l.startsWith('src ')).length;
}
