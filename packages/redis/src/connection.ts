import { Cluster, type ClusterOptions, Redis, type RedisOptions } from "ioredis";

/** A single Redis or a Redis Cluster: every command the project sends works on both. */
export type RedisConnection = Redis | Cluster;

/** A node of a Redis Cluster (any one is enough to find the others; give them all). */
export interface ClusterNodeAddress {
  host: string;
  port: number;
}

/** What an app's env.ts gives the factory (`redisEnv` of `@auditlog/events/jobs`). */
export interface RedisSettings {
  REDIS_URL: string;
  /** Empty: the single Redis of REDIS_URL. Else: a Redis Cluster, found through these nodes. */
  REDIS_CLUSTER_NODES: readonly ClusterNodeAddress[];
  /**
   * Cluster only: replicas that must hold a queued job before it is acknowledged (WAIT), so a
   * primary's failover cannot lose it. 0: acknowledged once the primary has it.
   */
  REDIS_CLUSTER_WAIT_REPLICAS: number;
}

/**
 * What a connection is for; each role has the options the project's rules give it:
 * - `producer`: adds jobs and counts (API, CLI, progress publishers). Fails fast: no offline
 *   queue, one retry, a command timeout, so a Redis outage becomes a 503 at once instead of
 *   requests piling up in memory.
 * - `worker`: BullMQ workers and anything that must ride out an outage. `maxRetriesPerRequest:
 *   null` (BullMQ requires it: blocking commands wait for reconnection instead of failing).
 * - `subscriber`: pub/sub. Queues commands while offline, never gives up, and resubscribes by
 *   itself after reconnecting.
 */
export type ConnectionRole = "producer" | "worker" | "subscriber";

export interface ConnectionOptions {
  /** Producers: the bound on each command (REDIS_COMMAND_TIMEOUT_MS). */
  commandTimeoutMs?: number;
  /** Shown by CLIENT LIST (`auditlog-realtime` …). */
  connectionName?: string;
}

/** The reconnection pace of every connection: soon after a blip, at most every 2 s. */
const retryStrategy = (attempt: number) => Math.min(attempt * 200, 2000);

/** Credentials, database and TLS of REDIS_URL, which apply to every node of a cluster too. */
function urlOptions(url: string): RedisOptions {
  const parsed = new URL(url);
  return {
    ...(parsed.username ? { username: decodeURIComponent(parsed.username) } : {}),
    ...(parsed.password ? { password: decodeURIComponent(parsed.password) } : {}),
    ...(parsed.protocol === "rediss:" ? { tls: {} } : {}),
  };
}

function roleOptions(role: ConnectionRole, options: ConnectionOptions): RedisOptions {
  const name = options.connectionName ? { connectionName: options.connectionName } : {};
  switch (role) {
    case "producer":
      return {
        ...name,
        enableOfflineQueue: false,
        maxRetriesPerRequest: 1,
        ...(options.commandTimeoutMs ? { commandTimeout: options.commandTimeoutMs } : {}),
        retryStrategy,
        // ioredis's ready check sends INFO without a handler for its failure: with the offline
        // queue off, a connection closed or cut while connecting becomes an unhandled rejection.
        enableReadyCheck: false,
      };
    case "worker":
      return { ...name, maxRetriesPerRequest: null, retryStrategy };
    case "subscriber":
      return {
        ...name,
        enableOfflineQueue: true,
        maxRetriesPerRequest: null,
        autoResubscribe: true,
        retryStrategy,
      };
  }
}

/**
 * THE way the API, the worker and the CLI open a Redis connection: a `Redis` on REDIS_URL, or a
 * `Cluster` on REDIS_CLUSTER_NODES when that is set, with the options of its role. Nothing else
 * in the apps calls `new Redis` or `new Cluster`.
 */
export function createRedisConnection(
  settings: RedisSettings,
  role: ConnectionRole,
  options: ConnectionOptions = {},
): RedisConnection {
  const perRole = roleOptions(role, options);
  if (settings.REDIS_CLUSTER_NODES.length === 0) return new Redis(settings.REDIS_URL, perRole);

  const { enableOfflineQueue, enableReadyCheck, retryStrategy: _perNode, ...nodeOptions } = perRole;
  const clusterOptions: ClusterOptions = {
    // The cluster's own offline queue (commands sent before the slots are known) follows the
    // role; each node connection keeps its queue so a command routed during a reconnection waits
    // for it instead of failing (the role's retries and timeout still bound it).
    enableOfflineQueue: enableOfflineQueue ?? true,
    enableReadyCheck: enableReadyCheck ?? true,
    clusterRetryStrategy: retryStrategy,
    // A failover moves slots: ask again soon, for long enough to cover cluster-node-timeout.
    retryDelayOnFailover: 200,
    retryDelayOnClusterDown: 200,
    retryDelayOnTryAgain: 200,
    slotsRefreshTimeout: 2000,
    redisOptions: { ...urlOptions(settings.REDIS_URL), ...nodeOptions },
  };
  return new Cluster(
    settings.REDIS_CLUSTER_NODES.map((node) => ({ host: node.host, port: node.port })),
    clusterOptions,
  );
}

/** Whether a connection is to a Redis Cluster. */
export function isCluster(connection: RedisConnection): connection is Cluster {
  return connection instanceof Cluster;
}

/**
 * BullMQ's key prefix for a queue on this connection. On a single Redis, BullMQ's own default
 * ("bull"), so queues already in Redis stay where they are. On a cluster, the queue's name in a
 * hash tag (`{auditlog-ingest}`): BullMQ's scripts touch many keys of one queue at once, which a
 * cluster allows only within one slot, and a tag per queue spreads the queues over the shards.
 * Producers and consumers of a queue must agree, so both take it from here.
 */
export function queuePrefix(connection: RedisConnection, queueName: string): string {
  return isCluster(connection) ? `{${queueName}}` : "bull";
}

/** BullMQ's connection options for a queue (`new Queue(name, queueConnection(...))`). */
export function queueConnection(connection: RedisConnection, queueName: string) {
  return { connection, prefix: queuePrefix(connection, queueName) };
}

/**
 * The one connection a subscriber's pub/sub goes over: the connection itself on a single Redis.
 * On a cluster, ioredis's `Cluster` keeps it apart (a node connection of its `ClusterSubscriber`,
 * private in ioredis 5; pinned version, read by the realtime hub and its tests): it is replaced,
 * on another node when it can, whenever it ends, and the cluster emits no event then, so whoever
 * must know (the hub tells its streams to resync) watches this connection's `end`. Undefined
 * while the cluster has none (before its first subscribe, or with no node known).
 */
export function pubSubConnection(connection: RedisConnection): Redis | undefined {
  if (!isCluster(connection)) return connection;
  const holder = (connection as unknown as { subscriber?: { getInstance?: () => Redis | null } })
    .subscriber;
  if (typeof holder?.getInstance !== "function") {
    throw new Error("ioredis Cluster without a ClusterSubscriber: check pubSubConnection");
  }
  return holder.getInstance() ?? undefined;
}
