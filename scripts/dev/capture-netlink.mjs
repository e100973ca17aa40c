#!/usr/bin/env node
// Captures the netlink datagrams a command sends and receives, as golden
// fixtures: runs it under strace with full hex dumps of sendmsg/recvmsg and
// prints JSON { captured, datagrams: [{ dir: "send"|"recv", hex }] }.
//
//   node scripts/dev/capture-netlink.mjs [--netns NAME] -- ip xfrm state list
//
// `captured` records the exact command, `ip -V` and `uname -r`, so a fixture
// always says where its bytes came from.
import { spawnSync } from 'node:child_process';
import { release } from 'node:os';

const args = process.argv.slice(2);
let netns;
if (args[0] === '--netns') {
  netns = args[1];
  args.splice(0, 2);
}
if (args[0] === '--') args.shift();
if (args.length === 0) {
  console.error('usage: capture-netlink.mjs [--netns NAME] -- COMMAND...');
  process.exit(2);
}
const cmd = netns ? ['ip', 'netns', 'exec', netns, ...args] : args;
const r = spawnSync('strace', ['-f', '-qq', '-e', 'trace=sendmsg,recvmsg,sendto,recvfrom', '-e', 'read=all', '-e', 'write=all', ...cmd], {
  encoding: 'utf8',
  maxBuffer: 256 << 20,
});
if (r.error) {
  console.error(`cannot run strace: ${r.error.message} (apt-get install strace)`);
  process.exit(1);
}
const datagrams = [];
let cur;
for (const line of r.stderr.split('\n')) {
  const call = /^(?:\[pid\s+\d+\] )?(sendmsg|recvmsg|sendto|recvfrom)\(\d+, .*\) = (-?\d+)/.exec(line);
  if (call) {
    cur = Number(call[2]) > 0 ? { dir: call[1].startsWith('send') ? 'send' : 'recv', hex: '' } : undefined;
    // MSG_PEEK calls return data that the next call reads again: skip them.
    if (cur && /MSG_PEEK/.test(line)) cur = undefined;
    if (cur) datagrams.push(cur);
    continue;
  }
  const dump = /^ \| [0-9a-f]{5} {2}((?:[0-9a-f]{2} {1,2}){1,16})/.exec(line);
  if (dump && cur) cur.hex += dump[1].replace(/\s+/g, '');
}
const ipv = spawnSync('ip', ['-V'], { encoding: 'utf8' }).stdout.trim();
console.log(
  JSON.stringify(
    {
      captured: `strace -e read=all -e write=all of: ${args.join(' ')}${netns ? ` (in netns ${netns})` : ''}; ${ipv}; kernel ${release()}`,
      exitStatus: r.status,
      datagrams,
    },
    null,
    1,
  ),
);
