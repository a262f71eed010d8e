/**
 * WebSocket client frames for the benchmark clients, built once and patched in place: headers with
 * the all-zero mask key (legal; payload bytes unchanged), and the few byte helpers the client's
 * upgrade and frame parsing need.
 * @module
 */

const enc = new TextEncoder();

/** Bytes of a client frame header (with the 4-byte mask key) for a payload of `len`. */
export function headerLen(len: number): number {
  return (len < 126 ? 2 : len < 65536 ? 4 : 10) + 4;
}

/** Writes a FIN client frame header with an all-zero mask key at `buf[off]`; returns its length. */
export function writeHeader(buf: Uint8Array, off: number, opcode: number, len: number): number {
  buf[off] = 0x80 | opcode;
  let h: number;
  if (len < 126) {
    buf[off + 1] = 0x80 | len;
    h = 2;
  } else if (len < 65536) {
    buf[off + 1] = 0x80 | 126;
    buf[off + 2] = len >>> 8;
    buf[off + 3] = len & 255;
    h = 4;
  } else {
    buf[off + 1] = 0x80 | 127;
    for (let i = 0; i < 4; i++) buf[off + 2 + i] = 0;
    buf[off + 6] = len >>> 24;
    buf[off + 7] = (len >>> 16) & 255;
    buf[off + 8] = (len >>> 8) & 255;
    buf[off + 9] = len & 255;
    h = 10;
  }
  buf[off + h] = buf[off + h + 1] = buf[off + h + 2] = buf[off + h + 3] = 0;
  return h + 4;
}

/** A complete client frame. */
export function clientFrame(opcode: number, payload: Uint8Array | string): Uint8Array {
  const p = typeof payload === "string" ? enc.encode(payload) : payload;
  const out = new Uint8Array(headerLen(p.length) + p.length);
  const h = writeHeader(out, 0, opcode, p.length);
  out.set(p, h);
  return out;
}

/** Where `needle` first starts in `hay`, or -1. */
export function indexOf(hay: Uint8Array, needle: Uint8Array): number {
  outer: for (let i = 0; i + needle.length <= hay.length; i++) {
    for (let j = 0; j < needle.length; j++) if (hay[i + j] !== needle[j]) continue outer;
    return i;
  }
  return -1;
}

/** `b[start, end)` as a Latin-1 string (for status lines, reasons and text-frame prefixes). */
export function latin1(b: Uint8Array, start: number, end: number): string {
  let s = "";
  for (let i = start; i < end && i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}

/** `a` followed by `b`, in a new buffer. */
export function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}
