/**
 * Runs a command against a throwaway 6-node Redis Cluster (3 primaries, 3 replicas; see
 * testing.ts): the cluster is started, the command runs with REDIS_CLUSTER_NODES set to its
 * nodes, and the cluster is removed afterwards. Exits with the command's status, so an existing
 * suite runs against a cluster as it is:
 *
 *   npx tsx packages/redis/src/with-redis-cluster.ts npx vitest run test/ingest-pipeline.test.ts
 */
import { spawn } from "node:child_process";
import { once } from "node:events";
import { startRedisCluster } from "./testing.ts";

const [command, ...args] = process.argv.slice(2);
if (!command) {
  console.error("usage: with-redis-cluster.ts <command> [args…]");
  process.exit(2);
}
const cluster = await startRedisCluster();
console.error(`[redis cluster] REDIS_CLUSTER_NODES=${cluster.nodesEnv}`);
let status = 1;
try {
  const child = spawn(command, args, {
    stdio: "inherit",
    env: { ...process.env, REDIS_CLUSTER_NODES: cluster.nodesEnv },
  });
  const [code, signal] = (await once(child, "exit")) as [number | null, string | null];
  status = code ?? (signal ? 1 : 0);
} finally {
  await cluster.destroy();
}
process.exit(status);
