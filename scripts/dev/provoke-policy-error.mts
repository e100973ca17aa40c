// Fixture generator: provokes an ext-ack error with NLMSGERR_ATTR_OFFS from the
// kernel through our own addon (CAP_ACK on), in netns capns.
//   node scripts/dev/capture-netlink.mjs -- npx tsx scripts/dev/provoke-policy-error.mts
// Sends a NEWLINK whose IFLA_MTU has a 2-byte payload (policy wants u32).
import { NetlinkRequester } from '../../src/netlink/requester.js';
const r = NetlinkRequester.open(0, { netns: { name: 'capns' } });
const ifi = Buffer.alloc(16);
const mtu = Buffer.from([0x06, 0x00, 0x04, 0x00, 0xdc, 0x05, 0x00, 0x00]); // nla_len 6, IFLA_MTU(4), 2 bytes + pad
const name = Buffer.from([0x07, 0x00, 0x03, 0x00, 0x79, 0x30, 0x00, 0x00]); // IFLA_IFNAME "y0"
try { await r.request({ type: 16, flags: 0x600, payload: [ifi, name, mtu] }); } catch (e) { console.error(String(e)); }
r.close();
