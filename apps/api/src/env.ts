import { fileURLToPath } from "node:url";
import { databaseEnv } from "@auditlog/db";
import { queueNameEnv, redisEnv } from "@auditlog/events/jobs";
import { webhookEnv } from "@auditlog/events/webhooks";
import { exportStorageEnv } from "@auditlog/exports";
import { loggingEnv, parseEnv } from "@auditlog/observability";
import { z } from "zod";

/** Where `pnpm --filter @auditlog/web build` writes the console. */
const builtConsoleDir = fileURLToPath(new URL("../../web/dist", import.meta.url));

const envSchema = z.object({
  ...databaseEnv,
  ...redisEnv,
  // The API produces ingest batches and export builds; the worker consumes them.
  ...queueNameEnv("ingest", "exports"),
  ...exportStorageEnv,
  ...loggingEnv,
  ...webhookEnv,
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  /**
   * Key of the HMAC that signs export download links. Unset: a fixed development key (with a
   * warning at boot); set a long random value wherever the API is reachable by others.
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
  /** Console sessions end after this long without activity (the expiry slides on use). */
  SESSION_TTL_HOURS: z.coerce.number().positive().max(720).default(12),
  /** Marks the session cookie `Secure`; set to true wherever the console is served over HTTPS. */
  COOKIE_SECURE: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /**
   * Send Strict-Transport-Security (one year): set to true where the API and console are served
   * over https. Off by default: on http://127.0.0.1 it would make the browser insist on https.
   */
  SECURITY_HSTS: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /** Failed logins allowed per email and per client address within LOGIN_WINDOW_SECONDS. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * The built web console, served for every path outside /v1 and /api (unknown paths get its
   * index.html, so the console's own routes work on reload). Empty turns the console off.
   */
  WEB_DIST_DIR: z.string().default(builtConsoleDir),
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

export type ApiEnv = z.infer<typeof envSchema>;

export function loadApiEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  return parseEnv(checkedEnvSchema, source, "API");
}
