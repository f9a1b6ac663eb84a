import { type ChildProcess, execFile, type SpawnOptions, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Redis } from "ioredis";

const run = promisify(execFile);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * `count` distinct ports nothing listens on right now (the OS picks them). All are held until
 * every one is picked: one at a time, the OS may hand the same port out twice.
 */
async function freePorts(count: number): Promise<number[]> {
  const servers = Array.from({ length: count }, () => createServer().listen(0, "127.0.0.1"));
  await Promise.all(servers.map((server) => once(server, "listening")));
  const ports = servers.map((server) => {
    const address = server.address();
    return typeof address === "object" && address ? address.port : 0;
  });
  await Promise.all(
    servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
  );
  return ports;
}

/** One line of CLUSTER NODES, as far as a test needs it. */
export interface ClusterNodeView {
  id: string;
  port: number;
  role: "primary" | "replica";
  /** The primary's id, for a replica. */
  primaryId: string | undefined;
  /** The node is flagged failed (`fail`) or unreachable from the one asked (`fail?`). */
  failing: boolean;
  /** Slot ranges a primary serves ("0-5460"). */
  slots: string[];
}

function parseClusterNodes(text: string): ClusterNodeView[] {
  return text
    .trim()
    .split("\n")
    .filter(Boolean)
    .map((line) => {
      const [id = "", address = "", flags = "", primary = "", , , , , ...slots] = line.split(" ");
      const port = Number(address.split("@")[0]?.split(":")[1]);
      const flagSet = new Set(flags.split(","));
      return {
        id,
        port,
        role: flagSet.has("master") ? "primary" : "replica",
        primaryId: primary === "-" ? undefined : primary,
        failing: flagSet.has("fail") || flagSet.has("fail?"),
        slots: slots.filter((slot) => !slot.startsWith("[")),
      } as ClusterNodeView;
    });
}

export interface RedisClusterOptions {
  /** Primaries (each serving a third of the slots for 3). */
  primaries?: number;
  /** Replicas of each primary. */
  replicasPerPrimary?: number;
  /**
   * `cluster-node-timeout`: how long a primary may not answer before its replica takes over.
   * Shorter here than Redis's default 15 s, so a failover test does not wait long; long enough
   * that a busy machine does not fail a primary over by itself.
   */
  nodeTimeoutMs?: number;
  /**
   * The address the nodes bind to and announce (default 127.0.0.1): a multi-host test puts the
   * cluster on a host of its test network.
   */
  host?: string;
  /** Starts a node's process (default: here); a multi-host test starts it on that host. */
  spawnNode?: (command: string, args: string[], options: SpawnOptions) => ChildProcess;
}

/**
 * A throwaway Redis Cluster of the test's own: `primaries × (1 + replicasPerPrimary)` real
 * `redis-server --cluster-enabled yes` processes on private ports, each with its own data
 * directory and append-only file (`appendfsync everysec`, `noeviction`: the settings the
 * deployment's Redis must have), joined by `redis-cli --cluster create --cluster-replicas`.
 * A node can be killed with SIGKILL (its replica is promoted) and started again from its own
 * directory, where it rejoins as a replica of the new primary.
 */
export async function startRedisCluster(options: RedisClusterOptions = {}) {
  const primaryCount = options.primaries ?? 3;
  const replicasPerPrimary = options.replicasPerPrimary ?? 1;
  const nodeTimeoutMs = options.nodeTimeoutMs ?? 5000;
  const host = options.host ?? "127.0.0.1";
  const spawnNode = options.spawnNode ?? spawn;
  const total = primaryCount * (1 + replicasPerPrimary);
  const ports = await freePorts(2 * total);
  const nodes = Array.from({ length: total }, (_, i) => ({
    port: ports[2 * i] as number,
    // Given explicitly: the default (port + 10000) may be taken or past 65535.
    busPort: ports[2 * i + 1] as number,
    dir: mkdtempSync(join(tmpdir(), "auditlog-redis-cluster-")),
    child: null as ChildProcess | null,
  }));

  async function pingable(port: number): Promise<boolean> {
    const client = new Redis({
      port,
      host,
      lazyConnect: true,
      retryStrategy: () => null,
      maxRetriesPerRequest: 0,
    });
    client.on("error", () => {});
    try {
      await client.connect();
      return (await client.ping()) === "PONG";
    } catch {
      return false;
    } finally {
      client.disconnect();
    }
  }

  async function startNode(node: (typeof nodes)[number]): Promise<void> {
    const child = spawnNode(
      "redis-server",
      [
        "--port",
        String(node.port),
        "--cluster-port",
        String(node.busPort),
        "--bind",
        host,
        // No password here: off a loopback address, protected mode would refuse every client.
        "--protected-mode",
        "no",
        "--dir",
        node.dir,
        "--cluster-enabled",
        "yes",
        "--cluster-config-file",
        "nodes.conf",
        "--cluster-node-timeout",
        String(nodeTimeoutMs),
        // A replica always may take over (its data is at most a moment old here).
        "--cluster-replica-validity-factor",
        "0",
        "--appendonly",
        "yes",
        "--appendfsync",
        "everysec",
        "--maxmemory-policy",
        "noeviction",
        "--save",
        "",
      ],
      { stdio: "ignore" },
    );
    node.child = child;
    const deadline = Date.now() + 30_000;
    while (!(await pingable(node.port))) {
      if (child.exitCode !== null) throw new Error(`redis-server exited (${child.exitCode})`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on ${node.port}`);
      await sleep(50);
    }
  }

  /** Runs one command on one node (a fresh connection: the node may have just restarted). */
  async function ask(port: number, ...args: string[]): Promise<unknown> {
    const client = new Redis({ port, host, retryStrategy: () => null });
    client.on("error", () => {});
    try {
      return await client.call(args[0] as string, ...args.slice(1));
    } finally {
      client.disconnect();
    }
  }

  const alive = () => nodes.filter((node) => node.child && node.child.exitCode === null);

  /** The cluster as a running node sees it. */
  async function topology(): Promise<ClusterNodeView[]> {
    for (const node of alive()) {
      try {
        return parseClusterNodes(String(await ask(node.port, "CLUSTER", "NODES")));
      } catch {
        // Try the next node.
      }
    }
    throw new Error("no cluster node answers");
  }

  /**
   * Until every running node says `cluster_state:ok` and agrees on the primaries, each serving
   * slots and none failing, with the expected number of replicas each. Throws at the deadline
   * with what was last seen.
   */
  async function waitUntilHealthy(timeoutMs = 60_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    let last = "";
    for (;;) {
      try {
        const running = alive();
        const states = await Promise.all(
          running.map(async (node) => String(await ask(node.port, "CLUSTER", "INFO"))),
        );
        const views = await Promise.all(
          running.map(async (node) =>
            parseClusterNodes(String(await ask(node.port, "CLUSTER", "NODES"))),
          ),
        );
        const summary = (view: ClusterNodeView[]) =>
          view
            .filter((n) => n.role === "primary" && n.slots.length > 0 && !n.failing)
            .map((n) => `${n.port}:${n.slots.join(",")}`)
            .sort()
            .join(" ");
        const first = views[0] ?? [];
        const okStates = states.every((info) => info.includes("cluster_state:ok"));
        const agreed = views.every((view) => summary(view) === summary(first));
        const primaries = first.filter((n) => n.role === "primary" && n.slots.length > 0);
        const livePorts = new Set(running.map((node) => node.port));
        const replicasOk = primaries.every(
          (primary) =>
            first.filter(
              (n) =>
                n.role === "replica" &&
                n.primaryId === primary.id &&
                !n.failing &&
                livePorts.has(n.port),
            ).length >= (running.length === total ? replicasPerPrimary : 0),
        );
        const synced = await Promise.all(
          running.map(async (node) => {
            const info = String(await ask(node.port, "INFO", "replication"));
            return !info.includes("role:slave") || info.includes("master_link_status:up");
          }),
        );
        if (
          okStates &&
          agreed &&
          primaries.length === primaryCount &&
          replicasOk &&
          synced.every(Boolean)
        ) {
          return;
        }
        last = `ok=${okStates} agreed=${agreed} primaries=${summary(first)} replicas=${replicasOk} synced=${synced}`;
      } catch (error) {
        last = (error as Error).message;
      }
      if (Date.now() > deadline) throw new Error(`cluster not healthy: ${last}`);
      await sleep(200);
    }
  }

  /** Every node gone and its directory removed. */
  async function destroy(): Promise<void> {
    for (const node of nodes) {
      const child = node.child;
      node.child = null;
      // A child killed from outside (signalCode set) has already exited: no exit event comes.
      if (child && child.exitCode === null && child.signalCode === null) {
        const exited = once(child, "exit");
        child.kill("SIGKILL");
        await exited;
      }
      rmSync(node.dir, { recursive: true, force: true });
    }
  }

  try {
    await Promise.all(nodes.map(startNode));
    await run("redis-cli", [
      "--cluster",
      "create",
      ...nodes.map((node) => `${host}:${node.port}`),
      "--cluster-replicas",
      String(replicasPerPrimary),
      "--cluster-yes",
    ]);
    await waitUntilHealthy();
  } catch (error) {
    // The caller gets no handle to clean up with: nothing started may outlive the failure.
    await destroy();
    throw error;
  }

  const nodeAt = (port: number) => {
    const node = nodes.find((candidate) => candidate.port === port);
    if (!node) throw new Error(`no cluster node on port ${port}`);
    return node;
  };

  return {
    /** `REDIS_CLUSTER_NODES`: every node, comma-separated host:port. */
    nodesEnv: nodes.map((node) => `${host}:${node.port}`).join(","),
    ports: nodes.map((node) => node.port),
    topology,
    waitUntilHealthy,
    /** The ports of the nodes serving slots now. */
    async primaryPorts(): Promise<number[]> {
      const view = await topology();
      return view
        .filter((n) => n.role === "primary" && n.slots.length > 0 && !n.failing)
        .map((n) => n.port);
    },
    /** The port of the primary serving `key` (its hash tag decides the slot). */
    async primaryFor(key: string): Promise<number> {
      const alivePort = alive()[0]?.port;
      if (alivePort === undefined) throw new Error("no cluster node running");
      const slot = Number(await ask(alivePort, "CLUSTER", "KEYSLOT", key));
      const view = await topology();
      const owner = view.find(
        (n) =>
          n.role === "primary" &&
          !n.failing &&
          n.slots.some((range) => {
            const [from = -1, to = from] = range.split("-").map(Number);
            return slot >= from && slot <= to;
          }),
      );
      if (!owner) throw new Error(`no primary serves slot ${slot}`);
      return owner.port;
    },
    /**
     * SIGKILL of one node: gone without closing or flushing anything. Resolves once a replica
     * has taken over its slots (a primary) and the cluster answers again.
     */
    async kill(port: number): Promise<void> {
      const node = nodeAt(port);
      const child = node.child;
      node.child = null;
      if (!child || child.exitCode !== null) return;
      const exited = once(child, "exit");
      child.kill("SIGKILL");
      await exited;
    },
    /** Starts a killed node again from its directory (its nodes.conf and append-only file). */
    async restart(port: number): Promise<void> {
      await startNode(nodeAt(port));
    },
    destroy,
  };
}

export type TestRedisCluster = Awaited<ReturnType<typeof startRedisCluster>>;
