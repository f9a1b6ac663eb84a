import { fileURLToPath } from "node:url";
import { databaseEnv } from "@auditlog/db";
import { queueNameEnv, redisEnv } from "@auditlog/events/jobs";
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
  /** How long a producer waits on Redis before answering 503. */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).default(2000),
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
  /** Marks the session cookie `Secure`; set to true wherever the console is served over HTTPS. */
  COOKIE_SECURE: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
  /** Failed logins allowed per email and per client address within LOGIN_WINDOW_SECONDS. */
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).default(10),
  LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).default(900),
  /**
   * Accept organisation webhook URLs on this machine: http://localhost / http://127.0.0.1, and
   * https to loopback or private addresses. Right for development; set false in production.
   */
  WEBHOOK_ALLOW_LOCAL_URLS: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  /**
   * The built web console, served for every path outside /v1 and /api (unknown paths get its
   * index.html, so the console's own routes work on reload). Empty turns the console off.
   */
  WEB_DIST_DIR: z.string().default(builtConsoleDir),
});

export type ApiEnv = z.infer<typeof envSchema>;

export function loadApiEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  return parseEnv(envSchema, source, "API");
}
