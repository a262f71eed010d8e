/**
 * Where a client puts its token on the upgrade request.
 * @module
 */

/** Read access to the upgrade request (a Hono `c.req` fits: `query(name)`, `header(name)`). */
export interface TokenSource {
  query(name: string): string | undefined;
  header(name: string): string | undefined;
}

// Browsers cannot set headers on a WebSocket upgrade, hence the query parameters; the header is
// for server-side clients. The scheme is case-insensitive (RFC 7235).
const BEARER = /^\s*bearer\s+(\S+)\s*$/i;

/**
 * The token of a request: query `token`, then query `auth_token`, then `Authorization: Bearer …`.
 * Empty values are skipped; undefined when there is none.
 */
export function tokenFrom(get: TokenSource): string | undefined {
  const fromQuery = get.query("token") || get.query("auth_token");
  if (fromQuery) return fromQuery;
  const header = get.header("Authorization");
  return (header && BEARER.exec(header)?.[1]) || undefined;
}
