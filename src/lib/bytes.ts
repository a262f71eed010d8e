/** Byte helpers that every runtime has without imports. @module */

/** UTF-8 length of a string without encoding it. */
export function utf8Length(s: string): number {
  let n = s.length;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) continue;
    if (c < 0x800) n += 1;
    else if (c >= 0xd800 && c <= 0xdbff && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00) i++, (n += 2); // a surrogate pair: 2 UTF-16 units, 4 bytes
    else n += 2; // the rest of the BMP, and a lone surrogate (written as U+FFFD): 3 bytes
  }
  return n;
}

/** Byte length of a frame as it travels on the wire (payload only). */
export function frameLength(frame: string | Uint8Array): number {
  return typeof frame === "string" ? utf8Length(frame) : frame.byteLength;
}
