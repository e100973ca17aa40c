// Sizes fixed by the VICI protocol (strongSwan src/libcharon/plugins/vici/README.md,
// vici_socket.h). charon disconnects a client that sends a segment above the
// limit, and silently drops an outgoing message above it.

/** u32 big-endian length prefix of every transport segment. */
export const SEGMENT_HEADER_BYTES = 4;

/** VICI_MESSAGE_SIZE_MAX: 512 KiB of data per segment, both directions. */
export const MAX_SEGMENT_BYTES = 512 * 1024;

/** Packet and element names carry a u8 length. */
export const MAX_NAME_BYTES = 255;

/** KEY_VALUE and LIST_ITEM values carry a u16 big-endian length. */
export const MAX_VALUE_BYTES = 0xffff;

/**
 * Deepest section nesting we accept. The protocol sets no limit; charon's own
 * messages nest at most six deep. The cap keeps a hostile or corrupt message
 * from driving the recursive walkers (encoder, toJSON) into a stack overflow.
 */
export const MAX_SECTION_DEPTH = 64;
