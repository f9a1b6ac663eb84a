import { compileFastCheck, type FastCheck } from "@auditlog/events";
import {
  type JobName,
  type JobPayload,
  jobCatalog,
  jobDefinition,
  type QueueKey,
} from "@auditlog/events/jobs";
import type { Logger } from "@auditlog/observability";
import { queuePrefix, type RedisConnection } from "@auditlog/redis";
import { type Job, UnrecoverableError, Worker } from "bullmq";
import type { WorkerMetrics } from "../metrics/worker-metrics.ts";

/**
 * Handles one job whose payload already passed its schema. `token` is the lock token a handler
 * needs to move its job back to the queue (a build interrupted by a shutdown).
 */
export type JobHandler<Q extends QueueKey, N extends JobName<Q>> = (
  payload: JobPayload<Q, N>,
  job: Job,
  token: string | undefined,
) => Promise<unknown>;

/** A handler for every job of the queue: the type refuses a map that misses one. */
export type JobHandlers<Q extends QueueKey> = { [N in JobName<Q>]: JobHandler<Q, N> };

export interface ConsumerOptions<Q extends QueueKey> {
  queue: Q;
  /** The queue's configured name (tests and benches run on queues of their own). */
  queueName: string;
  /**
   * The worker's shared connection (the factory's `worker` role: BullMQ needs
   * `maxRetriesPerRequest: null`); a single Redis or a cluster, whose prefix the queue's keys take.
   */
  connection: RedisConnection;
  concurrency: number;
  /** How long a job stays locked to a worker that stopped answering before it is retried. */
  lockDurationMs?: number;
  logger: Logger;
  handlers: JobHandlers<Q>;
  /**
   * Called with a job whose payload does not match its schema, before it fails for good: what
   * can be kept of it (the ingest queue dead-letters its events) is kept.
   */
  onMalformed?: (job: Job, issues: { path: string; message: string }[]) => Promise<void>;
  /**
   * Called when an attempt fails and no other will follow (its last attempt, or an
   * UnrecoverableError), before BullMQ keeps the job as failed: what the job must not keep for
   * its retention (the ingest queue truncates client addresses) is removed from its data here.
   */
  onFailedForGood?: (job: Job) => Promise<void>;
  /** Where each attempt's duration is observed (by queue, job name, outcome). */
  metrics?: WorkerMetrics | undefined;
}

/** BullMQ's signals that a handler moved its job itself: not failures. */
const jobMoveSignals = new Set([
  "DelayedError",
  "WaitingError",
  "WaitingChildrenError",
  "RateLimitError",
]);

/** Whether BullMQ will keep this job as failed once `error` leaves the processor. */
function failsForGood(job: Job, error: unknown): boolean {
  const name = (error as { name?: unknown } | null)?.name;
  if (typeof name === "string" && jobMoveSignals.has(name)) return false;
  if (error instanceof UnrecoverableError || name === "UnrecoverableError") return true;
  return job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
}

export interface Consumer {
  readonly worker: Worker;
  /** Stops taking jobs, waits for those in flight, then closes. Idempotent. */
  close(): Promise<void>;
}

/**
 * The one way the worker consumes a queue: BullMQ's Worker with the queue's consumer policy from
 * the job catalog, each job's payload validated against its schema (a malformed or unknown job
 * fails at once, without retries), dispatch to the handler of its name, and the same logging.
 */
export async function startConsumer<Q extends QueueKey>(
  options: ConsumerOptions<Q>,
): Promise<Consumer> {
  const definition = jobCatalog[options.queue];
  const handlers = options.handlers as Record<string, JobHandler<Q, JobName<Q>>>;
  const lockDuration = options.lockDurationMs ?? 30_000;
  // Each job name's payload schema compiled into plain checks (packages/events/src/fast-check.ts):
  // zod's walk copied a job's array of 100 events and its object per job. `true` means zod
  // would accept the payload and return it unchanged, so it is handed on as it is; anything
  // else goes through zod, which keeps every refusal and its messages.
  const fastChecks = new Map<string, FastCheck>();
  const fastCheckOf = (name: JobName<Q>): FastCheck => {
    let check = fastChecks.get(name);
    if (!check) {
      check = compileFastCheck(jobDefinition(options.queue, name).payload);
      fastChecks.set(name, check);
    }
    return check;
  };
  /** One job: its name and payload checked, then its handler. */
  const processJob = async (job: Job, token: string | undefined): Promise<unknown> => {
    const handler = handlers[job.name];
    if (!handler || !(job.name in definition.jobs)) {
      throw new UnrecoverableError(`unknown job name "${job.name}" on ${options.queue}`);
    }
    if (fastCheckOf(job.name as JobName<Q>)(job.data)) {
      return handler(job.data as JobPayload<Q, JobName<Q>>, job, token);
    }
    const parsed = jobDefinition(options.queue, job.name as JobName<Q>).payload.safeParse(job.data);
    if (!parsed.success) {
      const issues = parsed.error.issues.map((issue) => ({
        path: issue.path.join("."),
        message: issue.message,
      }));
      await options.onMalformed?.(job, issues);
      throw new UnrecoverableError(
        `malformed ${job.name} job: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`,
      );
    }
    return handler(parsed.data as JobPayload<Q, JobName<Q>>, job, token);
  };
  const worker = new Worker(
    options.queueName,
    async (job: Job, token?: string) => {
      const started = performance.now();
      const observe = (outcome: string) =>
        options.metrics?.jobDuration.observe(
          {
            queue: options.queue,
            name: job.name in definition.jobs ? job.name : "unknown",
            outcome,
          },
          (performance.now() - started) / 1000,
        );
      try {
        const result = await processJob(job, token);
        observe("completed");
        return result;
      } catch (error) {
        observe("failed");
        if (options.onFailedForGood && failsForGood(job, error)) {
          await options.onFailedForGood(job).catch((hookError: Error) =>
            options.logger.error(`${options.queue} failed-job clean-up failed`, {
              jobId: job.id,
              error: hookError.message,
            }),
          );
        }
        throw error;
      }
    },
    {
      connection: options.connection,
      prefix: queuePrefix(options.connection, options.queueName),
      concurrency: options.concurrency,
      lockDuration,
      stalledInterval: Math.max(1000, Math.floor(lockDuration / 2)),
      maxStalledCount: definition.consumer.maxStalledCount,
      removeOnComplete: definition.consumer.removeOnComplete,
      removeOnFail: definition.consumer.removeOnFail,
    },
  );
  worker.on("failed", (job, error) => {
    options.logger.warn(`${options.queue} job failed`, {
      jobId: job?.id,
      name: job?.name,
      attempt: job?.attemptsMade,
      error: error.message.slice(0, 300),
    });
  });
  worker.on("error", (error) =>
    options.logger.error(`${options.queue} worker error`, { error: error.message }),
  );
  await worker.waitUntilReady();
  let closing: Promise<void> | undefined;
  return {
    worker,
    close() {
      closing ??= worker.close();
      return closing;
    },
  };
}
