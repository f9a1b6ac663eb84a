/// <reference path="./cluster-key-slot.d.ts" />
import calculateSlot from "cluster-key-slot";
import type { Cluster } from "ioredis";

/** Fewer replicas than required confirmed a write in time. */
export class ReplicationTimeoutError extends Error {
  constructor(
    readonly acknowledged: number,
    readonly required: number,
  ) {
    super(`only ${acknowledged} of ${required} Redis replica(s) confirmed the write in time`);
    this.name = "ReplicationTimeoutError";
  }
}

/**
 * Waits until `replicas` replicas of the primary serving `key`'s slot hold every write this
 * client sent to that primary (Redis WAIT), at most `timeoutMs`; throws ReplicationTimeoutError
 * when fewer did. WAIT counts the writes of the connection it is sent on, so it goes to the very
 * node connection the cluster client routed the key's commands to: the slot's owner in the
 * client's slot map (kept current by MOVED replies and refreshes).
 *
 * Once it resolves, a failover of that primary (its replica promoted) keeps the writes: Redis
 * promotes the replica with the most data. WAITAOF (Redis 7.2+, fsynced on the replica) would add
 * the case of every copy's machine failing at once; WAIT is what every Redis 7 answers.
 */
export async function waitForReplicas(
  cluster: Cluster,
  key: string,
  replicas: number,
  timeoutMs: number,
): Promise<number> {
  if (replicas <= 0) return 0;
  const owner = cluster.slots[calculateSlot(key)]?.[0];
  const node = cluster
    .nodes("master")
    .find((candidate) => `${candidate.options.host}:${candidate.options.port}` === owner);
  if (!node) throw new Error(`no connection to the primary of ${key}'s slot`);
  const acknowledged = await node.wait(replicas, Math.max(1, Math.floor(timeoutMs)));
  if (acknowledged < replicas) throw new ReplicationTimeoutError(acknowledged, replicas);
  return acknowledged;
}
