/**
 * Resumable sessions of reliable (`?ack=1`) clients. A session outlives its connection by
 * RESUME_WINDOW_MS unless the client closed deliberately (1000): a reconnect with
 * `?resume=<session_id>&last_seq=<n>` within the window continues it — same client id, every
 * reliable message after n, and no PRESENCE_LEAVE/JOIN for the blip.
 * @module
 */

/** One session. */
export interface Session {
  /** Opaque and unguessable (128 random bits). */
  id: string;
  roomId: string;
  userId: string | null;
  clientId: string;
  /** The live connection's id, or undefined while detached. */
  connectionId?: string;
  /** While detached: when the window closes (epoch ms). */
  expiresAt?: number;
}

/** A new session id: 128 random bits, base64url. */
export function newSessionId(): string {
  const b = crypto.getRandomValues(new Uint8Array(16));
  let s = "";
  for (const x of b) s += String.fromCharCode(x);
  return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

/** Sessions of this instance (the cluster keeps them in its presence store as well). */
export class SessionStore {
  readonly #sessions = new Map<string, Session>();

  create(roomId: string, userId: string | null, clientId: string, connectionId: string): Session {
    const s: Session = { id: newSessionId(), roomId, userId, clientId, connectionId };
    this.#sessions.set(s.id, s);
    return s;
  }

  /** Takes over a session another instance shared (its client resumes here). */
  adopt(r: { id: string; room_id: string; user_id: string | null; client_id: string }): Session {
    const s: Session = { id: r.id, roomId: r.room_id, userId: r.user_id, clientId: r.client_id };
    this.#sessions.set(s.id, s);
    return s;
  }

  get(id: string): Session | undefined {
    return this.#sessions.get(id);
  }

  /** The connection ended without a deliberate close: resumable until `now + windowMs`. */
  detach(s: Session, now: number, windowMs: number): void {
    s.connectionId = undefined;
    s.expiresAt = now + windowMs;
  }

  /** A new connection took the session over. */
  attach(s: Session, connectionId: string): void {
    s.connectionId = connectionId;
    s.expiresAt = undefined;
  }

  end(s: Session): void {
    this.#sessions.delete(s.id);
  }

  /** Removes and returns the detached sessions whose window has closed. */
  expire(now: number): Session[] {
    const out: Session[] = [];
    for (const s of this.#sessions.values()) {
      if (s.expiresAt !== undefined && s.expiresAt <= now) {
        this.#sessions.delete(s.id);
        out.push(s);
      }
    }
    return out;
  }

  get size(): number {
    return this.#sessions.size;
  }
}
