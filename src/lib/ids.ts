/**
 * Identifiers the server makes: message ids (cheap, unique per server), session ids and
 * epochs (random, unguessable or non-zero).
 * @module
 */

/** A generator of server-unique message ids: `<8 random hex>-<counter base 36>` (cheaper than a UUID each). */
export class MessageIds {
  readonly #prefix = crypto.randomUUID().slice(0, 8);
  #seq = 0;
  next(): string {
    return `${this.#prefix}-${(++this.#seq).toString(36)}`;
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
