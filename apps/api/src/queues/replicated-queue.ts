import type { JobQueue } from "@auditlog/events/jobs";
import { isCluster, queuePrefix, type RedisConnection, waitForReplicas } from "@auditlog/redis";

/**
 * A queue whose `add` resolves only once `replicas` replicas of the queue's primary hold the job
 * (Redis WAIT), on a Redis Cluster: the API answers 202 when the add resolves, so from then on a
 * failover of that primary (its replica promoted, possibly before it had the job) must not lose
 * it. A replica that does not confirm within `timeoutMs` fails the add: the caller answers 503,
 * the client retries with its Idempotency-Key, and a job that did land is stored once all the
 * same. On a single Redis, or with 0 replicas asked, the queue as it is (its append-only file is
 * the promise there).
 */
export function replicatedQueue(
  queue: JobQueue & { readonly name: string },
  connection: RedisConnection,
  options: { replicas: number; timeoutMs: number },
): JobQueue {
  if (!isCluster(connection) || options.replicas <= 0) return queue;
  // Any key of the queue: the hash tag in its prefix decides the slot of all of them.
  const key = queuePrefix(connection, queue.name);
  return {
    async add(name, data, jobOptions) {
      const job = await queue.add(name, data, jobOptions);
      await waitForReplicas(connection, key, options.replicas, options.timeoutMs);
      return job;
    },
  };
}
