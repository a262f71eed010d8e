/**
 * The server's authentication policy: which mode it runs in, and what a token (or its absence)
 * means for a connection that claims some ids and wants some room. One place decides, whether
 * the token came with the upgrade, in the first message, or in a REFRESH.
 * @module
 */
import type { Config } from "../config.ts";
import { CloseCode } from "../errors.ts";
import type { Logger } from "../log.ts";
import { roomAllowed } from "./claims.ts";
import type { AuthOptions } from "./options.ts";
import { validateAuthOptions } from "./options.ts";
import { TokenVerifier, type VerifierDeps } from "./verifier.ts";

/** `development`: no key configured; `required`/`optional`: AUTH_MODE with a key. */
export type AuthMode = "development" | "required" | "optional";

/** What the client claimed in the upgrade URL. */
export interface Claimed {
  userId?: string;
  clientId?: string;
}

/** A settled identity, or why not (as an HTTP status before the upgrade, a close code after). */
export type Resolution =
  | { ok: true; userId: string | null; clientId?: string; exp?: number; rooms?: string[] }
  | { ok: false; status: 401 | 403 | 503; closeCode: number; error: string; message: string };

const fail = (status: 401 | 403 | 503, closeCode: number, message: string): Resolution => ({
  ok: false,
  status,
  closeCode,
  error: status === 401 ? "unauthorized" : status === 403 ? "forbidden" : "unavailable",
  message,
});

/** The auth options a config describes. */
export function authOptionsOf(config: Config): AuthOptions {
  const opt = (s: string) => (s === "" ? undefined : s);
  return {
    secret: opt(config.jwtSecret),
    publicKey: opt(config.jwtPublicKey),
    jwksUrl: opt(config.jwtJwksUrl),
    algorithms: config.jwtAlgorithms.length ? config.jwtAlgorithms : undefined,
    issuer: opt(config.jwtIssuer),
    audience: opt(config.jwtAudience),
    leewaySec: config.jwtLeewayS,
  };
}

/** The policy built from configuration. */
export class AuthPolicy {
  readonly mode: AuthMode;
  readonly verifier?: TokenVerifier;
  readonly leewaySec: number;

  private constructor(mode: AuthMode, leewaySec: number, verifier?: TokenVerifier) {
    this.mode = mode;
    this.leewaySec = leewaySec;
    this.verifier = verifier;
  }

  /**
   * Builds the policy, or returns the one-line reason start-up must stop (bad key options, or
   * `NODE_ENV=production` without a key).
   */
  static fromConfig(config: Config, deps: VerifierDeps & { logger?: Logger } = {}): AuthPolicy | string {
    const opts = authOptionsOf(config);
    const hasKey = opts.secret !== undefined || opts.publicKey !== undefined || opts.jwksUrl !== undefined;
    if (!hasKey) {
      if (config.nodeEnv === "production") {
        return "NODE_ENV=production needs JWT_SECRET, JWT_PUBLIC_KEY or JWT_JWKS_URL (refusing to run without authentication)";
      }
      return new AuthPolicy("development", config.jwtLeewayS);
    }
    const bad = validateAuthOptions(opts);
    if (bad) return `Invalid JWT settings: ${bad}`;
    return new AuthPolicy(config.authMode, config.jwtLeewayS, new TokenVerifier(opts, deps));
  }

  /** A policy for tests and embedding. */
  static development(): AuthPolicy {
    return new AuthPolicy("development", 5);
  }

  /** The connection's identity when it brought no token (`null`: it must authenticate by first message). */
  withoutToken(claimed: Claimed): Resolution | null {
    if (this.mode === "development") return { ok: true, userId: claimed.userId ?? null, clientId: claimed.clientId };
    if (this.mode === "optional") {
      if (claimed.userId !== undefined) return fail(401, CloseCode.UNAUTHORIZED, "A user_id needs a token");
      return { ok: true, userId: null, clientId: claimed.clientId };
    }
    return null;
  }

  /** Verifies `token` and checks it against the claimed ids and the room. Never throws. */
  async check(token: string, claimed: Claimed, room: string): Promise<Resolution> {
    if (!this.verifier) return { ok: true, userId: claimed.userId ?? null, clientId: claimed.clientId };
    const r = await this.verifier.verify(token);
    if (!r.ok) {
      return r.code === "unavailable" ? fail(503, CloseCode.INTERNAL, r.reason) : fail(401, CloseCode.UNAUTHORIZED, r.reason);
    }
    const id = r.identity;
    if (claimed.userId !== undefined && claimed.userId !== id.userId) {
      return fail(403, CloseCode.FORBIDDEN, "user_id does not match the token");
    }
    if (claimed.clientId !== undefined && id.clientId !== undefined && claimed.clientId !== id.clientId) {
      return fail(403, CloseCode.FORBIDDEN, "client_id does not match the token");
    }
    if (!roomAllowed(id.rooms, room)) return fail(403, CloseCode.FORBIDDEN, `The token does not allow room ${room}`);
    return { ok: true, userId: id.userId, clientId: id.clientId ?? claimed.clientId, exp: id.exp, rooms: id.rooms };
  }
}
