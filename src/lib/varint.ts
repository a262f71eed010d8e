/**
 * Unsigned protobuf varints, the one copy every layer uses (bus batches, frame headers, the
 * seq/epoch suffix of log entries, position-update stamping). Arithmetic, not bit operations,
 * so values up to 2^53 stay exact (sequence numbers may pass 2^32).
 * @module
 */

/** Bytes of the varint of `n` (a non-negative integer ≤ 2^53). */
export function varintLength(n: number): number {
  let len = 1;
  while (n >= 128) {
    n = Math.floor(n / 128);
    len++;
  }
  return len;
}

/** Writes the varint of `n` at `pos`; returns the position after it. */
export function writeVarint(buf: Uint8Array, pos: number, n: number): number {
  while (n >= 128) {
    buf[pos++] = (n % 128) + 128;
    n = Math.floor(n / 128);
  }
  buf[pos++] = n;
  return pos;
}

/**
 * A varint reader over one buffer: {@link read} returns the value (or -1 when the bytes end
 * first) and leaves the position after it in {@link pos}, so no object is made per value.
 */
export class VarintReader {
  pos = 0;
  constructor(readonly buf: Uint8Array) {}

  /** The varint at {@link pos}, or -1 when the buffer ends inside it. */
  read(): number {
    const b = this.buf;
    let n = 0, mul = 1, x: number, at = this.pos;
    do {
      if (at >= b.length) return -1;
      x = b[at++]!;
      n += (x & 0x7f) * mul;
      mul *= 128;
    } while (x & 0x80);
    this.pos = at;
    return n;
  }
}
