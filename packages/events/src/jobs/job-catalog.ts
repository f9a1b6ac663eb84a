import type { z } from "zod";
import { exportBuildJobSchema, exportExpireJobSchema } from "./export-jobs.ts";
import { ingestBatchJobSchema } from "./ingest-jobs.ts";
import { lifecycleRunJobSchema } from "./lifecycle-jobs.ts";
import {
  notifyEmailJobSchema,
  notifySlackJobSchema,
  notifyWebhookJobSchema,
} from "./notification-jobs.ts";

/**
 * Every background queue, every job on it (name, payload schema, retry and clean-up policy), and
 * how its consumers treat jobs: the one place producers (the API, the worker's notifier and
 * scheduler, the bench) and consumers (the worker's consumer factory) take their options from.
 * A new queue is an entry here plus a handler for each of its jobs.
 *
 * The shapes are BullMQ's option shapes, written out here so that this package (which the web
 * console also imports) does not depend on BullMQ.
 */

const day = 24 * 3600;

/** How long a job that failed for good stays in Redis for inspection. */
type Retention = true | { age: number; count?: number } | { count: number };

export interface JobPolicy {
  /** Tries in all: the first and every retry. */
  attempts: number;
  backoff?: { type: "exponential" | "fixed"; delay: number };
  /** A finished job is removed at once (`true`) or kept as told. */
  removeOnComplete: Retention;
  removeOnFail: Retention;
}

export interface JobDefinition<Payload extends z.ZodType = z.ZodType> {
  payload: Payload;
  policy: JobPolicy;
}

export interface ConsumerPolicy {
  /**
   * How often a job may be found stalled (its worker died holding it) before it fails instead of
   * being handed to the next worker.
   */
  maxStalledCount: number;
  /** Applies to jobs that arrive without their own (added by an older or foreign producer). */
  removeOnComplete: Retention;
  removeOnFail: Retention;
}

export interface QueueDefinition {
  /** The queue's name unless the deployment sets `envKey`. */
  defaultName: string;
  envKey: string;
  jobs: Record<string, JobDefinition>;
  consumer: ConsumerPolicy;
}

export const jobCatalog = {
  /** One job per accepted ingestion request; the worker stores its events. */
  ingest: {
    defaultName: "auditlog-ingest",
    envKey: "INGEST_QUEUE",
    jobs: {
      "ingest.batch": {
        payload: ingestBatchJobSchema,
        // An accepted batch must outlive a PostgreSQL outage: retries back off to hours, and a
        // job that still fails stays in Redis for a week.
        policy: {
          attempts: 20,
          backoff: { type: "exponential", delay: 500 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
    },
    // Recovering a job whose worker died is the point of stalled checks: never give up on it.
    consumer: {
      maxStalledCount: 1_000,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * day },
    },
  },
  /** Background export builds, and the scheduled sweep of expired and abandoned exports. */
  exports: {
    defaultName: "auditlog-exports",
    envKey: "EXPORT_QUEUE",
    jobs: {
      "export.build": {
        payload: exportBuildJobSchema,
        // Transient failures (database, storage) retry; the last failure marks the export failed.
        policy: {
          attempts: 5,
          backoff: { type: "exponential", delay: 5_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
      "export.expire": {
        payload: exportExpireJobSchema,
        // Added by a job scheduler every EXPORT_EXPIRY_INTERVAL_MS: a failed sweep is simply
        // the next one's work.
        policy: { attempts: 1, removeOnComplete: true, removeOnFail: { age: day } },
      },
    },
    // A stall is a dead worker: resume the build elsewhere; a build that kills its worker this
    // often is left failed, and the sweep marks its export failed.
    consumer: {
      maxStalledCount: 20,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * day },
    },
  },
  /** Email and webhook deliveries of notifications. */
  notifications: {
    defaultName: "auditlog-notifications",
    envKey: "NOTIFY_QUEUE",
    jobs: {
      "notify.email": {
        payload: notifyEmailJobSchema,
        // The delay is NOTIFY_RETRY_BASE_MS where the deployment sets it.
        policy: {
          attempts: 5,
          backoff: { type: "exponential", delay: 30_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
      "notify.webhook": {
        payload: notifyWebhookJobSchema,
        // The first try and 7 retries, each delay doubling (about 2 hours from a 30 s start).
        policy: {
          attempts: 8,
          backoff: { type: "exponential", delay: 30_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
      "notify.slack": {
        payload: notifySlackJobSchema,
        // An alert is worth less the later it comes: 6 tries over about half an hour from 30 s.
        policy: {
          attempts: 6,
          backoff: { type: "exponential", delay: 30_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
    },
    consumer: {
      maxStalledCount: 1,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * day },
    },
  },
  /** The daily data lifecycle: retention purges and the ageing of every other kind of data. */
  lifecycle: {
    defaultName: "auditlog-lifecycle",
    envKey: "LIFECYCLE_QUEUE",
    jobs: {
      "lifecycle.run": {
        payload: lifecycleRunJobSchema,
        // Added by a job scheduler every LIFECYCLE_INTERVAL_MS (a day). Each step is idempotent
        // and resumes where the last one stopped, so a failed run retries a few times within
        // the hour, and otherwise the next day's run does its work.
        policy: {
          attempts: 3,
          backoff: { type: "exponential", delay: 60_000 },
          removeOnComplete: true,
          removeOnFail: { age: 7 * day },
        },
      },
    },
    // A run holds no state a stall could lose: a run whose worker died is simply run again.
    consumer: {
      maxStalledCount: 5,
      removeOnComplete: { count: 0 },
      removeOnFail: { age: 7 * day },
    },
  },
} as const satisfies Record<string, QueueDefinition>;

export type JobCatalog = typeof jobCatalog;
export type QueueKey = keyof JobCatalog;
export type JobName<Q extends QueueKey> = keyof JobCatalog[Q]["jobs"] & string;
export type JobPayload<Q extends QueueKey, N extends JobName<Q>> = z.infer<
  JobCatalog[Q]["jobs"][N] extends JobDefinition<infer S> ? S : never
>;

export const queueKeys = Object.keys(jobCatalog) as QueueKey[];

export function jobDefinition<Q extends QueueKey>(queue: Q, name: JobName<Q>): JobDefinition {
  return (jobCatalog[queue].jobs as Record<string, JobDefinition>)[name] as JobDefinition;
}

/** What a producer may set per job; everything else comes from the catalog. */
export interface JobOverrides {
  /** Deduplicates: a job with the id of one still pending is not added again. */
  jobId?: string;
  /** The first retry delay, where the deployment configures it (NOTIFY_RETRY_BASE_MS). */
  backoffDelayMs?: number;
  /**
   * Scheduling, not policy: a lower number is taken first (BullMQ; 1 is the highest a job can
   * be given). Export builds use it for fairness between organisations.
   */
  priority?: number;
}

/** A job's options as BullMQ takes them (`Queue#add`'s third argument). */
export function jobOptions<Q extends QueueKey>(
  queue: Q,
  name: JobName<Q>,
  overrides: JobOverrides = {},
): JobPolicy & { jobId?: string; priority?: number } {
  const { policy } = jobDefinition(queue, name);
  // Copies all the way down: BullMQ keeps the object it is given, and the catalog stays as it is.
  const copy = <T>(value: T): T => (typeof value === "object" ? { ...value } : value);
  return {
    attempts: policy.attempts,
    ...(policy.backoff
      ? { backoff: { ...policy.backoff, delay: overrides.backoffDelayMs ?? policy.backoff.delay } }
      : {}),
    removeOnComplete: copy(policy.removeOnComplete),
    removeOnFail: copy(policy.removeOnFail),
    ...(overrides.jobId !== undefined ? { jobId: overrides.jobId } : {}),
    ...(overrides.priority !== undefined ? { priority: overrides.priority } : {}),
  };
}

/** The part of a BullMQ `Queue` a producer needs. */
export interface JobQueue {
  add(name: string, data: unknown, options: object): Promise<unknown>;
}

/**
 * A typed producer for one queue: `add` takes only that queue's job names, the payload its schema
 * describes, and the catalog's policy. Payloads are not validated again here (the types hold
 * them, and ingest batches are on the hot path); consumers validate every job they take.
 */
export function producerFor<Q extends QueueKey>(queue: JobQueue, key: Q) {
  return {
    add<N extends JobName<Q>>(name: N, payload: JobPayload<Q, N>, overrides?: JobOverrides) {
      return queue.add(name, payload, jobOptions(key, name, overrides));
    },
  };
}
export type JobProducer<Q extends QueueKey> = ReturnType<typeof producerFor<Q>>;
