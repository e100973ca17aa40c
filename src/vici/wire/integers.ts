// charon writes numbers as text: decimal (%u, %d, PRIu64) or bare hex digits
// (%.8x for SPIs, marks, interface IDs). These read them straight from the
// value bytes, strictly (no sign but a leading '-', no spaces, no "0x"),
// without building a string first: list-sas has a few dozen per CHILD_SA.

/** Decimal integer as a safe JS number; undefined if the bytes are not one. */
export function decimalNumber(b: Uint8Array): number | undefined {
  const len = b.length;
  let i = b[0] === 0x2d ? 1 : 0;
  if (i >= len) return undefined;
  if (len - i > 15) {
    // 15 digits always fit; longer ones take the careful way.
    const big = decimalBigint(b);
    return big !== undefined && big >= BigInt(Number.MIN_SAFE_INTEGER) && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
  }
  let n = 0;
  for (; i < len; i++) {
    const d = (b[i] as number) - 0x30;
    if (d < 0 || d > 9) return undefined;
    n = n * 10 + d;
  }
  return b[0] === 0x2d ? -n : n;
}

/** Hex digits (no prefix) as a safe JS number; undefined if not. */
export function hexNumber(b: Uint8Array): number | undefined {
  const len = b.length;
  if (len === 0) return undefined;
  if (len > 13) {
    const big = hexBigint(b);
    return big !== undefined && big <= BigInt(Number.MAX_SAFE_INTEGER) ? Number(big) : undefined;
  }
  let n = 0;
  for (let i = 0; i < len; i++) {
    const d = hexDigit(b[i] as number);
    if (d < 0) return undefined;
    n = n * 16 + d;
  }
  return n;
}

export function decimalBigint(b: Uint8Array): bigint | undefined {
  const len = b.length;
  let i = b[0] === 0x2d ? 1 : 0;
  if (i >= len) return undefined;
  for (; i < len; i++) {
    const c = b[i] as number;
    if (c < 0x30 || c > 0x39) return undefined;
  }
  return BigInt(Buffer.from(b.buffer, b.byteOffset, len).toString('latin1'));
}

export function hexBigint(b: Uint8Array): bigint | undefined {
  if (b.length === 0) return undefined;
  for (let i = 0; i < b.length; i++) if (hexDigit(b[i] as number) < 0) return undefined;
  return BigInt(`0x${Buffer.from(b.buffer, b.byteOffset, b.length).toString('latin1')}`);
}

function hexDigit(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0x61 && c <= 0x66) return c - 0x57;
  if (c >= 0x41 && c <= 0x46) return c - 0x37;
  return -1;
}
