// Child process for pin-root.test.ts: ensurePinRoot(argv[2], mount allowed)
// in whatever mount namespace it was started in; prints the outcome as JSON.
import { DEFAULT_PIN_ROOT, ensurePinRoot, mountNamespaceVsInit } from '../../../src/steer/object.js';

const root = process.argv[2] ?? DEFAULT_PIN_ROOT;
const mountNs = mountNamespaceVsInit();
try {
  ensurePinRoot(root, true);
  process.stdout.write(`${JSON.stringify({ ok: true, mountNs })}\n`);
} catch (e) {
  const err = e as Error;
  process.stdout.write(`${JSON.stringify({ ok: false, mountNs, name: err.name, message: err.message })}\n`);
}
