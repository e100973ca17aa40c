// What a channel needs from the session that owns it.
import type { ViciMessage } from '../wire/message.js';
import type { BackoffOptions } from './backoff.js';

export interface ChannelContext {
  /** The socket path for the next connect attempt (discovery runs each time). */
  resolvePath(): string;
  /** Deadline of one connect attempt. */
  connectTimeoutMs: number;
  /** false: no retries, a failed connect fails its waiters at once. */
  backoff: BackoffOptions | false;
  /** An event arrived that nobody on this channel asked for. */
  onStrayEvent(name: string, message: ViciMessage): void;
}
