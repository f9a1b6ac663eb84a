import {
  createDatabase,
  type Database,
  loadSecretBox,
  readReplicaFromEnv,
  type SecretBox,
} from "@auditlog/db";
import { type JobProducer, producerFor } from "@auditlog/events/jobs";
import { type HostLookup, systemHostLookup } from "@auditlog/events/webhooks";
import { type ExportStorage, exportStorageFromEnv } from "@auditlog/exports";
import {
  createLogger,
  type ProcessLogger,
  registerReadReplicaGauges,
} from "@auditlog/observability";
import { createRedisConnection, queueConnection, type RedisConnection } from "@auditlog/redis";
import { Queue } from "bullmq";
import { type ApiKeyVerifier, createApiKeyVerifier } from "./auth/api-key-verifier.ts";
import { type AuthGuard, createAuthGuard } from "./auth/auth-guard.ts";
import { createDeploymentKeys, type DeploymentKeys } from "./auth/deployment-keys.ts";
import { createLoginLimiter, type LoginLimiter } from "./auth/login-limiter.ts";
import type { ApiEnv } from "./env.ts";
import { createQuerySlots, type QuerySlots } from "./http/query-slots.ts";
import { createRateLimiter, type RateLimiter, type RateLimitPolicy } from "./http/rate-limit.ts";
import { createIngestAdmission, type IngestAdmission } from "./ingest/admission.ts";
import { type ApiMetrics, createApiMetrics } from "./metrics/api-metrics.ts";
import { RealtimeHub } from "./notifications/realtime-hub.ts";
import {
  createQueueDurabilityMonitor,
  type QueueDurabilityMonitor,
} from "./queues/queue-durability.ts";
import { replicatedQueue } from "./queues/replicated-queue.ts";
import { type CheckpointKeyDirectory, loadCheckpointKeys } from "./transparency/checkpoint-keys.ts";

export interface Services {
  env: ApiEnv;
  /**
   * PostgreSQL: every data function of @auditlog/db takes this handle (the primary). Reads that
   * may trail the latest writes by READ_REPLICA_MAX_LAG_MS take `db.forReads()` (the replica of
   * DATABASE_READ_URL while it keeps up); what must see its own writes keeps `db`.
   */
  db: Database;
  /** The producer connection: a single Redis, or a Redis Cluster (REDIS_CLUSTER_NODES). */
  redis: RedisConnection;
  ingestQueue: Queue;
  /** Typed producers: each job's options come from the job catalog. */
  jobs: { ingest: JobProducer<"ingest">; exports: JobProducer<"exports"> };
  /** Backpressure: holds ingestion requests while the ingest queue is full. */
  ingestAdmission: IngestAdmission;
  /** Whether Redis keeps an acknowledged job (read for /readyz and the boot log). */
  queueDurability: QueueDurabilityMonitor;
  /** Background export builds (EXPORT_QUEUE), consumed by the worker. */
  exportQueue: Queue;
  /** Where finished export files are read from (shared with the worker). */
  exportStorage: ExportStorage;
  logger: ProcessLogger;
  /** Request, ingest and process figures, served at `/metrics`. */
  metrics: ApiMetrics;
  /** Ingestion keys: known ones from memory (re-checked every second), through outages too. */
  apiKeys: ApiKeyVerifier;
  /** Unknown credentials remembered briefly; failed authentication limited per address. */
  authGuard: AuthGuard;
  /** Keys derived from the deployment's random secret (link signing, limiter keys). */
  deploymentKeys: DeploymentKeys;
  /** Failed-sign-in throttling, per (email, client address) and per address. */
  loginLimiter: LoginLimiter;
  /** Request quotas per person and per API key, counted in Redis across API processes. */
  rateLimiter: RateLimiter;
  rateLimits: { user: RateLimitPolicy; ingest: RateLimitPolicy };
  /** Entry queries each organisation may run at once in this process. */
  querySlots: QuerySlots;
  /** Live notifications for SSE streams: one Redis subscriber per process, opened on first use. */
  realtime: RealtimeHub;
  /** Resolves webhook hosts when a webhook is set (the machine's resolver; tests inject one). */
  lookupHost: HostLookup;
  /** The checkpoint verifier keys of CHECKPOINT_KEY_FILE (public parts), re-read on change. */
  checkpointKeys: CheckpointKeyDirectory;
  /** Seals destination secrets (streams, alert rules) with SECRETS_KEY_FILE's key. */
  secrets: SecretBox;
  close(): Promise<void>;
}

/**
 * How long a credential found unknown is answered from memory: long enough that a flood of one
 * value reaches PostgreSQL once every few seconds, short enough not to matter otherwise (a
 * credential is random and only handed out once stored, so it never turns valid later).
 */
const unknownCredentialMemoryMs = 5000;

export function createServices(env: ApiEnv, options: { lookupHost?: HostLookup } = {}): Services {
  const logger = createLogger("api", env.LOG_LEVEL);
  // First: without its keys the API cannot publish what checkpoints are verified with, and
  // refuses to start (CheckpointKeyFileError) before it opens any connection.
  const checkpointKeys = loadCheckpointKeys(env.CHECKPOINT_KEY_FILE, logger);
  // Created with a fresh key on first use (the quick start's .data/secrets-key).
  const secrets = loadSecretBox(env.SECRETS_KEY_FILE);
  const db = createDatabase({
    url: env.DATABASE_URL,
    poolSize: 10,
    ormPoolSize: 5,
    statementTimeoutMs: env.API_STATEMENT_TIMEOUT_MS,
    applicationName: "auditlog-api",
    readReplica: readReplicaFromEnv(env),
  });
  // A producer must fail fast: with no offline queue and a command timeout, a Redis outage turns
  // into an immediate 503 instead of requests piling up in memory.
  const redis = createRedisConnection(env, "producer", {
    commandTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
  });
  redis.on("error", () => {
    // Reconnection is automatic; readiness reports the outage.
  });
  // Producers only: BullMQ's start-up INFO (its Redis version check, which the workers make)
  // raced with a close right after start and surfaced as an unhandled rejection on a slow
  // machine. Adding jobs and counting them need no version-dependent capability.
  const producerOptions = (name: string) => ({
    ...queueConnection(redis, name),
    skipVersionCheck: true,
  });
  const ingestQueue = new Queue(env.INGEST_QUEUE, producerOptions(env.INGEST_QUEUE));
  ingestQueue.on("error", () => {});
  const ingestAdmission = createIngestAdmission({
    // Not connected: nothing to wait for here, and the enqueue answers 503 at once.
    waitingJobs: async () => (redis.status === "ready" ? ingestQueue.getWaitingCount() : 0),
    readTimeoutMs: env.REDIS_COMMAND_TIMEOUT_MS,
    maxQueuedJobs: env.INGEST_MAX_QUEUED_JOBS,
    maxWaitMs: env.INGEST_ADMISSION_WAIT_MS,
  });
  const queueDurability = createQueueDurabilityMonitor(redis, {
    logger,
    allowVolatile: env.ALLOW_VOLATILE_QUEUE,
    // A readiness probe answers within about a second, as its other checks do.
    timeoutMs: Math.min(env.REDIS_COMMAND_TIMEOUT_MS, 1000),
  });
  const exportQueue = new Queue(env.EXPORT_QUEUE, producerOptions(env.EXPORT_QUEUE));
  exportQueue.on("error", () => {});
  const exportStorage = exportStorageFromEnv(env);
  const deploymentKeys = createDeploymentKeys(db);
  const apiKeys = createApiKeyVerifier(db, {
    // Revocation reaches every API process within about a second (the promise is two).
    revalidateMs: 1000,
    lookupDeadlineMs: 1000,
    negativeTtlMs: unknownCredentialMemoryMs,
    touchIntervalMs: 60_000,
  });
  const authGuard = createAuthGuard(
    redis,
    { key: () => deploymentKeys.key("rate-limits") },
    {
      maxFailures: env.AUTH_MAX_FAILURES,
      windowSeconds: env.AUTH_FAILURE_WINDOW_SECONDS,
      negativeTtlMs: unknownCredentialMemoryMs,
    },
  );
  // On a cluster, acknowledged once a replica holds the job too (within half the command
  // timeout, so the add and the wait together fit in it).
  const replication = {
    replicas: env.REDIS_CLUSTER_WAIT_REPLICAS,
    timeoutMs: env.REDIS_COMMAND_TIMEOUT_MS / 2,
  };
  const jobs = {
    ingest: producerFor(replicatedQueue(ingestQueue, redis, replication), "ingest"),
    exports: producerFor(replicatedQueue(exportQueue, redis, replication), "exports"),
  };
  const loginLimiter = createLoginLimiter(
    redis,
    { key: () => deploymentKeys.key("rate-limits") },
    {
      freeFailures: env.LOGIN_FREE_FAILURES,
      maxDelaySeconds: env.LOGIN_MAX_DELAY_SECONDS,
      maxAddressFailures: env.LOGIN_MAX_FAILURES,
      windowSeconds: env.LOGIN_WINDOW_SECONDS,
    },
  );
  const rateLimiter = createRateLimiter(redis);
  const rateLimits = {
    user: {
      name: "user",
      quota: env.USER_RATE_LIMIT,
      windowSeconds: env.USER_RATE_LIMIT_WINDOW_SECONDS,
    },
    ingest: {
      name: "ingest",
      quota: env.INGEST_RATE_LIMIT,
      windowSeconds: env.INGEST_RATE_LIMIT_WINDOW_SECONDS,
    },
  };
  const querySlots = createQuerySlots({
    perOrg: env.QUERY_SLOTS_PER_ORG,
    waitMs: env.QUERY_SLOT_WAIT_MS,
  });
  const realtime = new RealtimeHub(
    () => createRedisConnection(env, "subscriber", { connectionName: "auditlog-realtime" }),
    logger,
    {
      perUser: env.SSE_MAX_STREAMS_PER_USER,
      perProcess: env.SSE_MAX_STREAMS_PER_PROCESS,
    },
  );
  const metrics = createApiMetrics(env);
  registerReadReplicaGauges(metrics.registry, () => db.readReplicaStatus());
  return {
    env,
    db,
    redis,
    ingestQueue,
    jobs,
    ingestAdmission,
    queueDurability,
    exportQueue,
    exportStorage,
    logger,
    metrics,
    apiKeys,
    authGuard,
    deploymentKeys,
    loginLimiter,
    rateLimiter,
    rateLimits,
    querySlots,
    realtime,
    lookupHost: options.lookupHost ?? systemHostLookup,
    checkpointKeys,
    secrets,
    async close() {
      apiKeys.close();
      checkpointKeys.close();
      realtime.close();
      // The connection ends before the queues close, and they are given the time to see it: a
      // queue whose shared connection failed before it was ever ready rejects its wait for it
      // when the connection ends, and reports that to its listeners; a closed queue has none
      // left, and the rejection would surface as unhandled (a crash at shutdown). A client
      // between reconnection attempts ends without a word, and its queues' wait never settles.
      redis.disconnect();
      await Promise.race([
        Promise.allSettled([ingestQueue.waitUntilReady(), exportQueue.waitUntilReady()]),
        new Promise((resolve) => setTimeout(resolve, 200)),
      ]);
      await ingestQueue.close().catch(() => {});
      await exportQueue.close().catch(() => {});
      await db.close();
    },
  };
}
