import { fileURLToPath } from "node:url";
import { databaseEnv, secretsEnv } from "@auditlog/db";
import { retentionBoundsFromEnv, retentionEnv, streamStateEnv } from "@auditlog/events";
import { mappedIpv4Octets, parseIp } from "@auditlog/events/ip";
import { queueNameEnv, redisEnv } from "@auditlog/events/jobs";
import { webhookEnv } from "@auditlog/events/webhooks";
import { exportStorageEnv, exportStorageEnvIssues } from "@auditlog/exports";
import { loggingEnv, metricsEnv, parseEnv } from "@auditlog/observability";
import { checkpointEnv } from "@auditlog/tlog/env";
import { z } from "zod";

/** Where `pnpm --filter @auditlog/web build` writes the console. */
const builtConsoleDir = fileURLToPath(new URL("../../web/dist", import.meta.url));

const envFields = z.object({
  ...databaseEnv,
  ...redisEnv,
  // The API produces ingest batches and export builds; the worker consumes them.
  ...queueNameEnv("ingest", "exports"),
  ...exportStorageEnv,
  ...loggingEnv,
  // `/metrics` (README, "Metrics and logs"): closed unless a token or address ranges are set.
  ...metricsEnv,
  /** One JSON line per request (method, route, status, duration, request id, organisation). */
  LOG_REQUESTS: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  ...webhookEnv,
  /**
   * Accept OpenID Connect issuers (single sign-on, issue 20) on this machine and private
   * networks, and over plain http there: for development and tests against a local provider.
   * Off by default: an organisation admin could otherwise make the API fetch internal services.
   */
  SSO_ALLOW_LOCAL_ISSUERS: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /** How long the API waits for an identity provider (discovery, token, userinfo). */
  SSO_HTTP_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(60).default(10),
  ...checkpointEnv,
  // Seals destination secrets of streams and alert rules (issue 17); the worker opens them.
  ...secretsEnv,
  // Each plan's default and maximum retention (issue 16), read by the worker's purge too.
  ...retentionEnv,
  // When a stream whose deliveries fail is answered `failing` (the worker notifies by the same).
  ...streamStateEnv,
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Where users reach the API and console (`https://audit.example.com`): signed download links
   * are built from it (never from a request's Host header), and an https one makes the session
   * cookie `Secure` and `__Host-`. Unset: `http://HOST:PORT`, which is right on a loopback
   * address only, so it is required on any other.
   */
  PUBLIC_URL: z.string().default(""),
  /**
   * The page where an organisation on a plan without audit logs upgrades; the console's
   * free-plan notice links to it. `{org}` is replaced with the organisation's slug. The default
   * is a placeholder (example.com) to be set to the deployment's billing page.
   */
  PLAN_UPGRADE_URL: z.url().default("https://example.com/pricing?org={org}"),
  /**
   * Key of the HMAC that signs export download links; wins when set. Unset: a random key kept in
   * the database (the same for every API process, surviving restarts) — allowed on a loopback
   * HOST only, as the database then holds what can forge downloads.
   */
  EXPORT_LINK_SECRET: z
    .string()
    .refine((value) => value === "" || value.length >= 16, "must be at least 16 characters")
    .default(""),
  /** How long a signed export download link works. */
  EXPORT_LINK_TTL_SECONDS: z.coerce
    .number()
    .int()
    .min(10)
    .max(7 * 24 * 3600)
    .default(900),
  /** A request body larger than this is refused with 413 before it is parsed. */
  MAX_BODY_BYTES: z.coerce
    .number()
    .int()
    .min(1024)
    .default(1024 * 1024),
  /**
   * Ingestion backpressure: while more jobs than this wait in the ingest queue, a request waits
   * for room before its body is read (a job is one request's batch, up to 1,000 events).
   */
  INGEST_MAX_QUEUED_JOBS: z.coerce.number().int().min(1).default(500),
  /**
   * /readyz answers 503 while more ingest jobs than this wait (the workers are behind; requests
   * are being held or refused). Empty: INGEST_MAX_QUEUED_JOBS. 0: not checked. The queue is
   * shared, so every API process turns unready together: an alert more than a routing hint.
   */
  READY_MAX_QUEUED_JOBS: z.union([z.literal(""), z.coerce.number().int().min(0)]).default(""),
  /** How long a request waits for room in the ingest queue before it gets 429 and Retry-After. */
  INGEST_ADMISSION_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(5000),
  /**
   * A client must send its whole header block within this, or it gets 408 and is disconnected:
   * 60 s (Node's default) lets slow clients hold connections. 10 s is ample on any real link.
   */
  HEADERS_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  /**
   * A client must send its whole request, body included, within this (Node's default: 300 s).
   * It covers the wait of a held ingest request (INGEST_ADMISSION_WAIT_MS) and a 1 MiB body on a
   * slow link; answers (live streams, downloads) are not limited by it.
   */
  REQUEST_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  /**
   * How long an idle keep-alive connection stays open between requests (Node's default). Behind a
   * load balancer, set it above the balancer's own idle timeout.
   */
  KEEP_ALIVE_TIMEOUT_MS: z.coerce.number().int().min(0).default(5_000),
  /** How long a producer waits on Redis before answering 503. */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).default(2000),
  /**
   * Fairness between tenants (issue 13 §14). Requests one signed-in person may make per window,
   * counted per personal access token or per user for cookie sessions (429 beyond, with
   * RateLimit-Policy, RateLimit and Retry-After).
   */
  USER_RATE_LIMIT: z.coerce.number().int().min(1).default(600),
  USER_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /** Ingestion requests one API key may make per window; each carries up to 1,000 events. */
  INGEST_RATE_LIMIT: z.coerce.number().int().min(1).default(1000),
  INGEST_RATE_LIMIT_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(10),
  /**
   * PostgreSQL cancels any API statement running longer; the answer (422 query_too_broad) asks
   * for a narrower filter. Every query the console makes takes milliseconds.
   */
  API_STATEMENT_TIMEOUT_MS: z.coerce.number().int().min(100).max(600_000).default(5000),
  /**
   * The Hub export's one statement (a COPY of up to 100,000 rendered entries) runs until the
   * client has read the answer, so it gets this bound instead of API_STATEMENT_TIMEOUT_MS; past
   * it the answer ends unfinished (truncated JSON).
   */
  HUB_EXPORT_TIMEOUT_MS: z.coerce.number().int().min(1000).max(3_600_000).default(300_000),
  /**
   * Entry queries (list, histogram, Hub export) one organisation may run at once in one API
   * process; more wait up to QUERY_SLOT_WAIT_MS for a slot, then get 429. One tenant's burst of
   * expensive searches cannot take every database connection of the process.
   */
  QUERY_SLOTS_PER_ORG: z.coerce.number().int().min(1).max(64).default(4),
  QUERY_SLOT_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(2000),
  /** Exports an organisation may have queued or running at once (429 beyond). */
  EXPORT_MAX_PENDING_PER_ORG: z.coerce.number().int().min(1).max(100).default(3),
  /** Live notification streams per user: opening one more closes the oldest. */
  SSE_MAX_STREAMS_PER_USER: z.coerce.number().int().min(1).max(100).default(5),
  /** Live notification streams per API process: beyond it, 503 with Retry-After. */
  SSE_MAX_STREAMS_PER_PROCESS: z.coerce.number().int().min(1).default(1000),
  /**
   * Readiness (and the boot log) check that Redis keeps an acknowledged event: append-only file,
   * appendfsync everysec or always, maxmemory-policy noeviction. True accepts a Redis that does
   * not (or cannot show it, as managed services with CONFIG disabled): /readyz still names
   * what is at risk but answers 200. Off by default: 202 must mean kept.
   */
  ALLOW_VOLATILE_QUEUE: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /** Console sessions end after this long without activity (the expiry slides on use). */
  SESSION_TTL_HOURS: z.coerce.number().positive().max(720).default(12),
  /**
   * Unset: the session cookie is `Secure` (and named `__Host-auditlog_session`) exactly when
   * PUBLIC_URL is https. `true` forces it whatever PUBLIC_URL says (as before PUBLIC_URL
   * existed); `false` is refused with an https PUBLIC_URL.
   */
  COOKIE_SECURE: z.enum(["", "true", "false", "1", "0"]).default(""),
  /**
   * Failed sign-ins for one email from one address before each further try must wait (2 s, then
   * 4 s, 8 s … up to LOGIN_MAX_DELAY_SECONDS). Per pair, never per email alone: a stranger cannot
   * lock the real user out.
   */
  LOGIN_FREE_FAILURES: z.coerce.number().int().min(1).default(3),
  LOGIN_MAX_DELAY_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * Failed sign-ins per client address across all emails within LOGIN_WINDOW_SECONDS: slows a
   * password spray; generous, as an office behind one NAT address shares it.
   */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(50),
  /** How long failures are remembered. */
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * Failed authentications (unknown or revoked API keys, tokens, session cookies) per client
   * address within AUTH_FAILURE_WINDOW_SECONDS; then 429 before any database lookup until the
   * window ends. Generous: it exists to keep floods of made-up credentials off PostgreSQL.
   */
  AUTH_MAX_FAILURES: z.coerce.number().int().min(1).default(100),
  AUTH_FAILURE_WINDOW_SECONDS: z.coerce.number().int().min(1).max(3600).default(60),
  /**
   * The built web console, served for every path outside /v1 and /api (unknown paths get its
   * index.html, so the console's own routes work on reload). Empty turns the console off.
   */
  WEB_DIST_DIR: z.string().default(builtConsoleDir),
});

/** 127.0.0.0/8, ::1 (also as IPv4-mapped IPv6) and `localhost`: reachable from this machine only. */
export function isLoopbackHost(host: string): boolean {
  if (host.toLowerCase() === "localhost") return true;
  const address = parseIp(host);
  if (!address) return false;
  if (address.family === 4) return address.octets[0] === 127;
  const mapped = mappedIpv4Octets(address);
  if (mapped) return mapped[0] === 127;
  return address.groups.every((group, index) => group === (index === 7 ? 1 : 0));
}

/** PUBLIC_URL as an origin without a trailing slash; a message when it cannot be one. */
function readPublicUrl(value: string): { url: string } | { problem: string } {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    return { problem: "must be an absolute http or https URL, like https://audit.example.com" };
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    return { problem: "must start with http:// or https://" };
  }
  if (url.username || url.password || url.search || url.hash || url.pathname !== "/") {
    return {
      problem: "must be an origin only (scheme, host, port): no path, query, fragment or user",
    };
  }
  return { url: url.origin };
}

function truthy(value: string): boolean {
  return value === "true" || value === "1";
}

const envSchema = envFields
  .superRefine((env, ctx) => {
    try {
      retentionBoundsFromEnv(env);
    } catch (error) {
      ctx.addIssue({ code: "custom", path: ["RETENTION"], message: (error as Error).message });
    }
    for (const issue of exportStorageEnvIssues(env)) ctx.addIssue({ code: "custom", ...issue });
    const publicUrl = env.PUBLIC_URL ? readPublicUrl(env.PUBLIC_URL) : null;
    if (publicUrl && "problem" in publicUrl) {
      ctx.addIssue({ code: "custom", path: ["PUBLIC_URL"], message: publicUrl.problem });
    }
    if (!isLoopbackHost(env.HOST)) {
      const where = `when HOST (${env.HOST}) is not a loopback address`;
      if (!env.EXPORT_LINK_SECRET) {
        ctx.addIssue({
          code: "custom",
          path: ["EXPORT_LINK_SECRET"],
          message: `must be set to a long random value ${where}: it signs links that download exports without a session`,
        });
      }
      if (!env.PUBLIC_URL) {
        ctx.addIssue({
          code: "custom",
          path: ["PUBLIC_URL"],
          message: `must be set ${where}: download links are built from it`,
        });
      }
    }
    const https = publicUrl && "url" in publicUrl && publicUrl.url.startsWith("https:");
    if (https && (env.COOKIE_SECURE === "false" || env.COOKIE_SECURE === "0")) {
      ctx.addIssue({
        code: "custom",
        path: ["COOKIE_SECURE"],
        message: "cannot be false when PUBLIC_URL is https",
      });
    }
  })
  .transform((env) => {
    const configured = env.PUBLIC_URL ? readPublicUrl(env.PUBLIC_URL) : null;
    const host = env.HOST.includes(":") ? `[${env.HOST}]` : env.HOST;
    const publicUrl =
      configured && "url" in configured ? configured.url : `http://${host}:${env.PORT}`;
    return {
      ...env,
      PUBLIC_URL: publicUrl,
      COOKIE_SECURE: env.COOKIE_SECURE ? truthy(env.COOKIE_SECURE) : publicUrl.startsWith("https:"),
      /**
       * Strict-Transport-Security (one year) only when the console is served over https: on
       * http://127.0.0.1 it would make the browser insist on https.
       */
      SECURITY_HSTS: publicUrl.startsWith("https:"),
      READY_MAX_QUEUED_JOBS:
        env.READY_MAX_QUEUED_JOBS === "" ? env.INGEST_MAX_QUEUED_JOBS : env.READY_MAX_QUEUED_JOBS,
    };
  });

const checkedEnvSchema = envSchema
  .refine((env) => env.REQUEST_TIMEOUT_MS >= env.HEADERS_TIMEOUT_MS, {
    path: ["REQUEST_TIMEOUT_MS"],
    message: "must be at least HEADERS_TIMEOUT_MS",
  })
  .refine((env) => env.REQUEST_TIMEOUT_MS > env.INGEST_ADMISSION_WAIT_MS, {
    path: ["REQUEST_TIMEOUT_MS"],
    // An ingest request held for room in the queue has not sent its body yet.
    message: "must be greater than INGEST_ADMISSION_WAIT_MS",
  });

export type ApiEnv = z.output<typeof envSchema>;

export function loadApiEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  return parseEnv(checkedEnvSchema, source, "API");
}
