/**
 * Who may read the operator endpoints (`/metrics`, `/ws/stats`, `/ws/{room}/stats`,
 * `/dashboard`): they show room names and every member's ids. Open in development; closed as
 * soon as METRICS_TOKEN is set or NODE_ENV is production (normalised by the config). Closed,
 * they take `Authorization: Bearer <METRICS_TOKEN>`, or a JWT (verified like a connection's
 * token) whose `scope` claim contains {@link STATS_SCOPE}; such a JWT with a `rooms` claim may
 * read only those rooms' stats, and none of the views across rooms.
 * @module
 */
import type { Context } from "hono";
import { roomAllowed } from "../auth/claims.ts";
import type { AuthPolicy } from "../auth/policy.ts";
import type { Config } from "../config.ts";
import type { Logger } from "../log.ts";

/** What the check reads of the server. */
export interface OpsServer {
  readonly config: Config;
  readonly auth: AuthPolicy;
  readonly log: Logger;
}

/** The `scope` word that lets a JWT read stats, metrics and the dashboard. */
export const STATS_SCOPE = "graphwiz:stats";

/** Whether these endpoints need a credential at all. */
export function opsClosed(hub: OpsServer): boolean {
  return hub.config.metricsToken !== "" || hub.config.nodeEnv === "production";
}

/** Compares in time independent of where the strings differ. */
function sameSecret(a: string, b: string): boolean {
  const x = new TextEncoder().encode(a);
  const y = new TextEncoder().encode(b);
  let diff = x.length ^ y.length;
  for (let i = 0; i < Math.max(x.length, y.length); i++) diff |= (x[i] ?? 0) ^ (y[i] ?? 0);
  return diff === 0;
}

const refuse = (hub: OpsServer, c: Context, status: 401 | 403, message: string): Response => {
  hub.log.info("metrics_rejected", { path: c.req.path, status });
  return c.json({ error: status === 401 ? "unauthorized" : "forbidden", message }, status);
};

/**
 * Checks a request for an operator endpoint. `room` is set for one room's stats (the token's
 * `rooms` claim must allow it); `allowQuery` lets the dashboard page take `?token=`.
 * Returns the 401/403 response, or undefined when the request may go on.
 */
export async function opsDenied(hub: OpsServer, c: Context, opts: { room?: string; allowQuery?: boolean } = {}): Promise<Response | undefined> {
  if (!opsClosed(hub)) return undefined;
  const given = c.req.header("authorization")?.replace(/^Bearer\s+/i, "") ?? (opts.allowQuery ? c.req.query("token") : undefined);
  const token = hub.config.metricsToken;
  if (given && token && sameSecret(given, token)) return undefined;
  const verifier = hub.auth.verifier;
  if (given && verifier && given.split(".").length === 3) {
    const r = await verifier.verify(given);
    if (r.ok) {
      const id = r.identity;
      if (!id.scopes?.includes(STATS_SCOPE)) return refuse(hub, c, 403, `The token's scope does not include ${STATS_SCOPE}`);
      if (opts.room !== undefined && !roomAllowed(id.rooms, opts.room)) return refuse(hub, c, 403, `The token does not allow room ${opts.room}`);
      if (opts.room === undefined && id.rooms !== undefined) {
        return refuse(hub, c, 403, "The token is limited to some rooms (rooms claim); this view spans every room");
      }
      return undefined;
    }
  }
  const how = [token ? "Authorization: Bearer <METRICS_TOKEN>" : "", verifier ? `a token whose scope includes ${STATS_SCOPE}` : ""].filter(Boolean).join(" or ");
  return refuse(hub, c, 401, how ? `This endpoint needs ${how}` : "This endpoint is closed in production: set METRICS_TOKEN");
}
