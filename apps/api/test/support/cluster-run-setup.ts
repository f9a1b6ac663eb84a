// The cluster run (vitest.cluster.config.ts) must not pass against the single Redis by mistake:
// without REDIS_CLUSTER_NODES every file of it fails here.
if (!process.env.REDIS_CLUSTER_NODES) {
  throw new Error(
    "the Redis Cluster run needs REDIS_CLUSTER_NODES: run it through packages/redis/src/with-redis-cluster.ts (pnpm test:cluster)",
  );
}
