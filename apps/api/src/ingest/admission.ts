/**
 * Backpressure for ingestion. The API can accept events faster than the worker can store them,
 * and on a small machine every event accepted beyond that only grows the queue while taking the
 * CPU the worker and PostgreSQL need: in the benchmark the API accepted 10,900 events/s while
 * 4,900 were committed. So when more than `maxQueuedJobs` jobs wait, a request waits too, before
 * its body is read, until there is room; after `maxWaitMs` it gets 429 with Retry-After. A client
 * that keeps a connection busy is slowed to the rate the pipeline can store, at no CPU cost, and
 * a burst the queue can absorb passes without delay. Jobs waiting for a retry (a PostgreSQL
 * outage) are delayed jobs, not waiting ones: they never close the gate.
 */
export interface IngestAdmission {
  /** True once there is room; false when `maxWaitMs` passed without room. */
  admit(): Promise<boolean>;
}

export interface IngestAdmissionOptions {
  /** How many jobs wait in the queue right now (BullMQ's `getWaitingCount`). */
  waitingJobs: () => Promise<number>;
  maxQueuedJobs: number;
  maxWaitMs: number;
  /** How often the depth is read, at most, however many requests ask. */
  pollMs?: number;
  /** A read that takes longer counts as unreadable (BullMQ waits for a connection that is down). */
  readTimeoutMs?: number;
}

export function createIngestAdmission(options: IngestAdmissionOptions): IngestAdmission {
  const pollMs = options.pollMs ?? 100;
  const readTimeoutMs = options.readTimeoutMs ?? 1000;
  let depth = 0;
  let readAt = Number.NEGATIVE_INFINITY;
  let reading: Promise<number> | null = null;

  /** The depth, read at most once per `pollMs` and shared by every request that asks. */
  function currentDepth(): Promise<number> {
    if (performance.now() - readAt < pollMs) return Promise.resolve(depth);
    reading ??= withTimeout(options.waitingJobs(), readTimeoutMs)
      .then(
        (count) => {
          depth = count;
          return count;
        },
        // Redis is away: let the request through, and the enqueue answers 503 as it always does.
        () => 0,
      )
      .finally(() => {
        readAt = performance.now();
        reading = null;
      });
    return reading;
  }

  return {
    async admit() {
      const deadline = performance.now() + options.maxWaitMs;
      for (;;) {
        if ((await currentDepth()) < options.maxQueuedJobs) return true;
        const left = deadline - performance.now();
        if (left <= 0) return false;
        await new Promise((resolve) => setTimeout(resolve, Math.min(pollMs, left)));
      }
    },
  };
}

async function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      promise,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error("timed out")), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
