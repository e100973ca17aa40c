// The TypeScript side of the steering lab scenario, run inside the VM with
// lab_node: one command per call, JSON on stdout for the bash script to
// store as a result. Usage: lab_node test/lab/steer/guest.ts <command> '<json>'
import { mkdirSync } from 'node:fs';
import { EthtoolClient } from '../../../src/link/ethtool.js';
import { LinkClient } from '../../../src/link/client.js';
import { desiredFromConfig, steerUplinkSchema } from '../../../src/steer/config.js';
import { loadAddon } from '../../../src/native/addon.js';
import { defaultObjectFile, loadSteerObject } from '../../../src/steer/object.js';
import { Steering, detachSteering, inspectSteering, type SteerTarget } from '../../../src/steer/steering.js';
import { enforceVlanOffload, type VlanOffloadControl } from '../../../src/steer/vlan-offload.js';
import { TABLE_DESIRED, expected, runCase, tableCases } from '../../host/steer/cases.js';

const [command, json] = process.argv.slice(2);
const arg = JSON.parse(json ?? '{}') as Record<string, unknown>;
const out = (v: unknown): void => void process.stdout.write(`${JSON.stringify(v)}\n`);
const target = (): SteerTarget => ({
  uplink: String(arg.uplink),
  pinRoot: String(arg.pinRoot),
  ...(typeof arg.netns === 'string' && arg.netns !== '' ? { netns: { name: arg.netns } } : {}),
});

switch (command) {
  case 'mount': {
    // A private bpffs for the pins (the guest's /sys/fs/bpf is left alone).
    const dir = String(arg.dir);
    mkdirSync(dir, { recursive: true });
    loadAddon().bpffsMount(dir);
    out({ mounted: dir });
    break;
  }
  case 'xdp-pass': {
    // veth transmits redirected frames only when the receiving peer runs XDP.
    const a = loadAddon();
    const obj = a.bpfLoadObject(`${process.cwd()}/dist/bpf/xdp_pass.o`, {});
    const prog = obj.programs[0];
    if (!prog) throw new Error('no program in xdp_pass.o');
    const modes = (arg.devices as [string, string][]).map(([ns, dev]) =>
      a.xdpAttach(a.ifNameToIndex(dev, { netnsPath: `/run/netns/${ns}` }), prog.fd, { mode: 'native', netnsPath: `/run/netns/${ns}` }),
    );
    out({ modes });
    break;
  }
  case 'list': {
    const v = inspectSteering(target());
    out({ status: v.status(), list: v.list() });
    v.close();
    break;
  }
  case 'attach-only': {
    // Open and attach, nothing else (the generic-mode check on a VLAN device).
    const s = Steering.open({ ...target(), mountBpffs: false });
    out(s.attach());
    s.close();
    break;
  }
  case 'detach':
    out(detachSteering(target()));
    break;
  case 'table': {
    // The host suite's BPF_PROG_TEST_RUN table, on this kernel.
    const s = Steering.open({ ...target(), mountBpffs: false });
    s.attach();
    const r = s.reconcile(TABLE_DESIRED);
    const egress = loadSteerObject(defaultObjectFile(), s.pinDir, { steer_egress: 'xdp' });
    const a = loadAddon();
    const netnsPath = `/run/netns/${String(arg.netns)}`;
    const results = tableCases().map((c) => {
      const got = runCase({ steering: s, ingress: s.programs.ingress, portRx: s.programs.portRx, egress: egress.programs.egress, netnsPath, ifindexOf: (d) => a.ifNameToIndex(d, { netnsPath }) }, c);
      const want = expected(c);
      return { group: c.group, name: c.name, ok: JSON.stringify(got) === JSON.stringify(want), got, want };
    });
    out({ issues: r.issues, results });
    break;
  }
  case 'vlan-offload': {
    // Detection and the change both through ethtool netlink (src/link/ethtool.ts).
    const ns = String(arg.netns);
    const client = await EthtoolClient.open({ netns: { name: ns } });
    const control: VlanOffloadControl = client;
    const dev = String(arg.dev);
    try {
      const warn = await enforceVlanOffload(control, dev, 'warn');
      const disable = await enforceVlanOffload(control, dev, 'disable');
      const again = await enforceVlanOffload(control, dev, 'disable');
      out({ warn, disable, again });
    } finally {
      client.close();
    }
    break;
  }
  case 'vf': {
    // Entries from the PF's VF list (rtnetlink, src/link) through the
    // configuration's vf_ports map, reconciled onto the PF's steering.
    const pf = String(arg.uplink);
    const links = LinkClient.open();
    let vfs;
    try {
      vfs = (await links.getLink(pf, { vf: true })).vfs ?? [];
    } finally {
      links.close();
    }
    const cfg = steerUplinkSchema.parse({ device: pf, vf_ports: arg.vfPorts });
    const { desired, skipped } = desiredFromConfig(cfg, vfs, [{ vlan: 100, daddr: '10.100.0.1', spi: 0x4242 }]);
    const s = Steering.open({ uplink: pf, pinRoot: String(arg.pinRoot), mountBpffs: false });
    const attach = s.attach();
    const reconcile = s.reconcile(desired);
    const again = s.reconcile(desired);
    out({ vfs, desired, skipped, attach, reconcile, again, list: s.list() });
    s.close();
    break;
  }
  default:
    throw new Error(`unknown command ${String(command)}`);
}
