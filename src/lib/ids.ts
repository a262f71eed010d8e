/**
 * Identifiers the server makes: message ids (cheap, unique per server), session ids and
 * epochs (random, unguessable or non-zero).
 * @module
 */

/** The ASCII bytes of a string: `bytes[0, length)`. */
export interface AsciiBytes {
  readonly bytes: Uint8Array;
  readonly length: number;
}

const ZERO = 0x30, NINE = 0x39, A = 0x61, Z = 0x7a;
const DIGITS = Array.from({ length: 36 }, (_, i) => i.toString(36));

/**
 * A generator of server-unique message ids: `<8 random hex>-<counter base 36>` (cheaper than a UUID each).
 * It also keeps the last id's bytes ({@link AsciiBytes}), counted up in place: the stamping of a
 * position update copies those instead of reading the new string, which on JavaScriptCore is a
 * rope until read (flattening it cost more than building it). The string itself is the
 * cached `<prefix>-<all digits but the last>` and the last digit (a new head every 36 ids):
 * no number formatting per id.
 */
export class MessageIds implements AsciiBytes {
  readonly #prefix = crypto.randomUUID().slice(0, 8);
  #seq = 0;
  /** `<prefix>-` and the digits of `#seq / 36`, for the ids of that run of 36. */
  #head = "";
  #headOf = -1;
  /** The last id's bytes (`<prefix>-<digits>`), valid up to {@link length}. */
  readonly bytes = new Uint8Array(32);
  length = 9;
  constructor() {
    for (let i = 0; i < 8; i++) this.bytes[i] = this.#prefix.charCodeAt(i);
    this.bytes[8] = 0x2d; // "-"
  }
  next(): string {
    this.#count();
    const n = ++this.#seq;
    const high = Math.floor(n / 36);
    if (high !== this.#headOf) (this.#headOf = high), (this.#head = high === 0 ? `${this.#prefix}-` : `${this.#prefix}-${high.toString(36)}`);
    return this.#head + DIGITS[n % 36]!;
  }
  /** Adds one to the base-36 digits in {@link bytes}. */
  #count(): void {
    const b = this.bytes;
    for (let i = this.length - 1; i >= 9; i--) {
      const c = b[i]!;
      if (c === Z) {
        b[i] = ZERO;
        continue;
      }
      b[i] = c === NINE ? A : c + 1;
      return;
    }
    b.copyWithin(10, 9, this.length); // all digits were "z" (or none yet): one more digit, "1" first
    b[9] = ZERO + 1;
    this.length++;
  }
}

/** A new session id: 128 random bits, base64url (22 characters). */
export function newSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** A random epoch: a non-zero uint32 (0 means "no epoch" on the wire). */
export function randomEpoch(): number {
  const a = new Uint32Array(1);
  do crypto.getRandomValues(a);
  while (a[0] === 0);
  return a[0]!;
}
