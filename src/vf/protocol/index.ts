// The VF mailbox protocol: constants, attribute tables, codec and framing.
export * from './constants.js';
export { MailboxDecodeError, MailboxEncodeError, type DecodeProblem } from './errors.js';
export { mailboxAttrs, childAttrs, trafficSelector, xfrmSa, type MailboxAttrs, type TrafficSelector } from './attributes.js';
export { encodeFrame, decodeFrame, readHeader, childInput, frameHeader, type AnyFrame, type Frame, type FrameInput, type ChildSpec, type HeaderView } from './codec.js';
export { FrameReader } from './framer.js';
