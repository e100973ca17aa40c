// SO_PEERCRED of a connected unix socket: the pid, uid and gid the kernel
// recorded for the other end at connect (the accepting side's for a client).
// node:net exposes no file descriptor publicly; its handle has it.
import type { Socket } from 'node:net';
import { loadAddon, type PeerCredentials } from './addon.js';

/** Throws when the socket has no file descriptor (closed, or not a unix stream). */
export function socketPeerCredentials(socket: Socket): PeerCredentials {
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) throw new Error('unix socket without a file descriptor');
  return loadAddon().peerCredentials(fd);
}
