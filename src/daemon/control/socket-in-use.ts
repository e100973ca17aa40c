// Whether a unix socket path has a live listener: before taking over a path
// a daemon must not unlink the socket of another one still running.
import { createConnection } from 'node:net';

export function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = createConnection(path);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}
