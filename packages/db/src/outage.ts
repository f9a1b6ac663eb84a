/**
 * Whether an error means a backing service (PostgreSQL or Redis) is unreachable, starting up,
 * shutting down or out of connections: a condition to answer 503 for and retry later, never a
 * 500. The API's error handler and the worker's export failures both ask this one function.
 *
 * Errors arrive in several wrappings: raw socket errors (`code: "ECONNREFUSED"`), pg's server
 * errors (`code` is the SQLSTATE), pg's own connection errors (a message and no code), Prisma's
 * known request errors (`code: "P1001"`; or `P2039`, "Database error", whose SQLSTATE sits in
 * `meta.driverAdapterError.cause.originalCode` — PostgreSQL starting up arrives as that), and
 * ioredis's errors (messages only). Causes are followed a few levels deep.
 */
export function isServiceOutage(error: unknown): boolean {
  const seen = new Set<unknown>();
  const pending: unknown[] = [error];
  while (pending.length > 0 && seen.size < 12) {
    const current = pending.shift();
    if (typeof current !== "object" || current === null || seen.has(current)) continue;
    seen.add(current);
    const { code, originalCode, message, originalMessage, cause, meta, kind } = current as Record<
      string,
      unknown
    >;
    for (const value of [code, originalCode]) {
      if (typeof value === "string" && outageCodes.has(value)) return true;
    }
    if (typeof kind === "string" && outageDriverKinds.has(kind)) return true;
    for (const text of [message, originalMessage]) {
      if (typeof text === "string" && outageMessage.test(text)) return true;
    }
    pending.push(cause, (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError);
  }
  return false;
}

/**
 * Every code that means "unavailable", with where it comes from. Kept in one list: the API's and
 * the worker's copies had drifted apart before.
 */
export const outageCodes: ReadonlySet<string> = new Set([
  // Node sockets and DNS (pg, Prisma's pg adapter and ioredis all surface these).
  "ECONNREFUSED",
  "ECONNRESET",
  "ECONNABORTED",
  "ETIMEDOUT",
  "EPIPE",
  "EHOSTUNREACH",
  "ENETUNREACH",
  "ENOTFOUND",
  "EAI_AGAIN",
  // PostgreSQL SQLSTATE, class 08: connection exception.
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08004", // sqlserver_rejected_establishment_of_sqlconnection
  "08006", // connection_failure
  // PostgreSQL SQLSTATE, class 57: operator intervention.
  "57P01", // admin_shutdown
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now (starting up, in recovery, not yet accepting connections)
  // PostgreSQL SQLSTATE, class 53: insufficient resources.
  "53300", // too_many_connections
  // Prisma (through its pg driver adapter).
  "P1001", // can't reach database server
  "P1002", // database server reached but timed out
  "P1008", // operations timed out (socket timeout)
  "P1017", // server has closed the connection
  "P2024", // timed out fetching a connection from the pool
  "P2037", // too many database connections opened
]);

/** Prisma driver adapters' error kinds for the same conditions (the cause of a P-code error). */
const outageDriverKinds: ReadonlySet<string> = new Set([
  "DatabaseNotReachable",
  "ConnectionClosed",
  "SocketTimeout",
  "TooManyConnections",
]);

/** Errors that carry no code: pg's own connection errors and ioredis's. */
const outageMessage = new RegExp(
  [
    "Connection terminated",
    "Connection ended unexpectedly",
    "timeout exceeded when trying to connect",
    "Client has encountered a connection error",
    "Can't reach database server",
    "the database system is (starting up|shutting down|in recovery|not yet accepting connections)",
    // ioredis
    "^Connection is closed",
    "Stream isn't writeable and enableOfflineQueue options is false",
    "Reached the max retries per request limit",
    "^Command timed out",
  ].join("|"),
  "i",
);

/**
 * Whether PostgreSQL cancelled a statement for running past `statement_timeout` (SQLSTATE 57014,
 * directly or through Prisma's driver adapter error). Not an outage: the same query would time
 * out again, so the answer asks for a narrower one instead of a retry.
 */
export function isStatementTimeout(error: unknown): boolean {
  for (let current = error, depth = 0; current && depth < 6; depth++) {
    const { code, originalCode, cause, meta } = current as Record<string, unknown>;
    if (code === "57014" || originalCode === "57014") return true;
    current = (meta as { driverAdapterError?: unknown } | undefined)?.driverAdapterError ?? cause;
  }
  return false;
}
