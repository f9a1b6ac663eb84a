/**
 * Runs a command against a throwaway 6-node Redis Cluster (3 primaries, 3 replicas; see
 * testing.ts): the cluster is started, the command runs with REDIS_CLUSTER_NODES set to its
 * nodes, and the cluster is removed afterwards. Exits with the command's status, so an existing
 * suite runs against a cluster as it is:
 *
 *   npx tsx packages/redis/src/with-redis-cluster.ts npx vitest run test/ingest-pipeline.test.ts
 *
 * `--deadline-seconds N` (before the command) bounds the command: past it, the command and
 * everything it started are killed and the run fails. The command runs in a process group of
 * its own, which is killed once it ends (or on SIGINT, SIGTERM, SIGHUP, or the deadline), so no
 * process it started (a test's worker, a browser) outlives the run; the cluster's nodes are
 * killed and their directories removed in every one of those cases, and the run checks that
 * none of their ports answers any more.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createConnection } from "node:net";
import { Redis } from "ioredis";
import { startRedisCluster, type TestRedisCluster } from "./testing.ts";

const log = (message: string) => console.error(`[redis cluster] ${message}`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

let argv = process.argv.slice(2);
let deadlineSeconds = 0;
if (argv[0] === "--deadline-seconds") {
  deadlineSeconds = Number(argv[1]);
  argv = argv.slice(2);
}
const [command, ...args] = argv;
if (!command || !Number.isFinite(deadlineSeconds) || deadlineSeconds < 0) {
  console.error("usage: with-redis-cluster.ts [--deadline-seconds N] <command> [args…]");
  process.exit(2);
}

let cluster: TestRedisCluster | undefined;
let child: ChildProcess | undefined;
let finishing: Promise<never> | undefined;

/** SIGKILL of the command's whole process group (the command and all it started). */
function killGroup(signal: NodeJS.Signals): void {
  if (child?.pid === undefined) return;
  try {
    process.kill(-child.pid, signal);
  } catch {
    // ESRCH: the group is gone already.
  }
}

/** Whether anything accepts a connection on the port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = createConnection({ port, host: "127.0.0.1" });
    socket.once("connect", () => {
      socket.destroy();
      resolve(true);
    });
    socket.once("error", () => resolve(false));
  });
}

/** Commands each node served: the traffic reached every shard, not one Redis. */
async function nodeTraffic(ports: number[]): Promise<string> {
  const parts = await Promise.all(
    ports.map(async (port) => {
      const client = new Redis({ port, host: "127.0.0.1", retryStrategy: () => null });
      client.on("error", () => {});
      try {
        const info = String(await client.info());
        const commands = /total_commands_processed:(\d+)/.exec(info)?.[1] ?? "?";
        const role = /role:(\w+)/.exec(info)?.[1] === "master" ? "primary" : "replica";
        const keys = await client.dbsize();
        return `${port} ${role} ${commands} commands, ${keys} keys`;
      } catch (error) {
        return `${port} unreadable (${(error as Error).message})`;
      } finally {
        client.disconnect();
      }
    }),
  );
  return parts.join("; ");
}

/** Kills what the command left, removes the cluster, checks its ports are closed, exits. */
function finish(status: number, reason: string): Promise<never> {
  finishing ??= (async () => {
    killGroup("SIGKILL");
    if (cluster) {
      const started = Date.now();
      const ports = cluster.ports;
      log(`after the command: ${await nodeTraffic(ports)}`);
      await cluster.destroy();
      const open = (await Promise.all(ports.map(listening))).flatMap((open, i) =>
        open ? [ports[i]] : [],
      );
      if (open.length > 0) {
        log(`ports still answering after the teardown: ${open.join(", ")}`);
        status = status || 1;
      } else {
        log(
          `${ports.length} nodes stopped, directories removed, no port answers (${seconds(started)})`,
        );
      }
    }
    log(`${reason}: exit ${status} after ${seconds(runStarted)}`);
    process.exit(status);
  })();
  return finishing;
}

const runStarted = Date.now();
for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
  process.on(signal, () => {
    killGroup(signal);
    void finish(signal === "SIGINT" ? 130 : 143, `stopped by ${signal}`);
  });
}

try {
  cluster = await startRedisCluster();
} catch (error) {
  // startRedisCluster has removed whatever it had started.
  log(`could not start: ${(error as Error).message}`);
  process.exit(1);
}
log(`6 nodes up in ${seconds(runStarted)}: REDIS_CLUSTER_NODES=${cluster.nodesEnv}`);

const commandStarted = Date.now();
child = spawn(command, args, {
  stdio: "inherit",
  env: { ...process.env, REDIS_CLUSTER_NODES: cluster.nodesEnv },
  // A process group of its own: the deadline and the teardown kill all it started.
  detached: true,
});
child.once("error", (error) => void finish(1, `could not run ${command}: ${error.message}`));
if (deadlineSeconds > 0) {
  setTimeout(() => {
    log(`deadline of ${deadlineSeconds} s passed: killing the command and all it started`);
    void finish(1, "deadline");
  }, deadlineSeconds * 1000).unref();
}
child.once("exit", (code, signal) => {
  const status = code ?? (signal ? 1 : 0);
  void finish(
    status,
    `command ended${signal ? ` by ${signal}` : ""} after ${seconds(commandStarted)}`,
  );
});
