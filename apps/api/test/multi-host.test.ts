import type { ChildProcess } from "node:child_process";
import { gunzipSync } from "node:zlib";
import type { Database } from "@auditlog/db";
import { createTestDatabase, createTestPool } from "@auditlog/db/testing";
import { startRedisCluster, type TestRedisCluster } from "@auditlog/redis/testing";
import { S3TestServer, s3TestCredentials } from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type LoadReport, startLoad } from "./support/fault-load.ts";
import {
  startHostApi,
  startHostPostgres,
  startHostReplica,
  startHostWorker,
  until,
} from "./support/multi-host-stack.ts";
import { createNetnsNetwork, type NetnsNetwork } from "./support/netns-hosts.ts";
import { createMemberWithToken, createOrgWithKey } from "./support/test-stack.ts";

/**
 * The deployment spread over hosts (network namespaces with addresses of their own): a
 * PostgreSQL primary and its streaming replica, a 6-node Redis Cluster (3 primaries, 3
 * replicas, AOF) on hosts of their own, an S3-compatible store on the test network, two API
 * hosts and three worker hosts. Load goes through both API hosts while a worker host is cut off
 * the network, the Redis primary holding the ingest queue is killed and an API host dies; nothing
 * acknowledged may be lost or stored twice, and an export requested on one API host downloads
 * from the other.
 */
describe("several hosts", () => {
  let network: NetnsNetwork;
  let postgres: Awaited<ReturnType<typeof startHostPostgres>>;
  let replica: Awaited<ReturnType<typeof startHostReplica>>;
  let cluster: TestRedisCluster;
  let s3: S3TestServer;
  let env: Record<string, string>;
  const apis: Record<string, { url: string; child: ChildProcess }> = {};
  let db: Database;
  const host = (name: string) => {
    const found = network.hosts[name];
    if (!found) throw new Error(`no host ${name}`);
    return found;
  };

  beforeAll(async () => {
    network = await createNetnsNetwork([
      "db",
      "db-replica",
      "redis",
      "api-1",
      "api-2",
      "worker-1",
      "worker-2",
      "worker-3",
    ]);
    const redisHost = host("redis");
    [postgres, cluster] = await Promise.all([
      startHostPostgres(host("db")),
      startRedisCluster({
        host: redisHost.address,
        spawnNode: (command, args, options) => redisHost.spawn(command, args, options),
      }),
    ]);
    replica = await startHostReplica(host("db-replica"), postgres);
    // The store listens on the test network's gateway: every host reaches it, none owns it.
    s3 = await new S3TestServer("auditlog-exports", network.gateway).start();
    env = {
      DATABASE_URL: postgres.url,
      DATABASE_READ_URL: replica.url,
      REDIS_CLUSTER_NODES: cluster.nodesEnv,
      EXPORT_STORAGE: "s3",
      EXPORT_S3_BUCKET: s3.bucket,
      EXPORT_S3_ENDPOINT: s3.endpoint,
      EXPORT_S3_FORCE_PATH_STYLE: "true",
      EXPORT_S3_ACCESS_KEY_ID: s3TestCredentials.accessKeyId,
      EXPORT_S3_SECRET_ACCESS_KEY: s3TestCredentials.secretAccessKey,
      EXPORT_LINK_SECRET: "multi-host-test-link-secret",
    };
    const started = await Promise.all(
      ["api-1", "api-2"].map((name) => startHostApi(host(name), env)),
    );
    apis["api-1"] = started[0] as (typeof started)[number];
    apis["api-2"] = started[1] as (typeof started)[number];
    for (const name of ["worker-1", "worker-2", "worker-3"]) startHostWorker(host(name), env);
    db = createTestDatabase(postgres.url);
  }, 240_000);

  afterAll(async () => {
    await db?.close();
    await cluster?.destroy();
    await s3?.close();
    await network?.destroy();
    replica?.destroy();
    postgres?.destroy();
  }, 60_000);

  it("loses nothing acknowledged and stores nothing twice through a cut-off worker host, a killed Redis primary and a dead API host", async () => {
    const { org, apiKey } = await createOrgWithKey("enterprise", "multihost", db);
    const api1 = apis["api-1"]?.url ?? "";
    const api2 = apis["api-2"]?.url ?? "";
    const loadOptions = { apiKey, clients: 3, batchSize: 20, pauseMs: 20 };
    const loads = [
      startLoad({ ...loadOptions, url: api1, otherUrls: [api2], scenario: "via-api-1" }),
      startLoad({ ...loadOptions, url: api2, otherUrls: [api1], scenario: "via-api-2" }),
    ];
    const acknowledged = () => loads.reduce((sum, load) => sum + load.report.acknowledged, 0);
    const acknowledgedAtLeast = (requests: number) =>
      until(`${requests} acknowledged requests`, async () => acknowledged() >= requests, 120_000);

    await acknowledgedAtLeast(30);
    await host("worker-2").cutOff();
    await acknowledgedAtLeast(60);
    // The Redis primary holding the ingest queue (its hash tag decides the slot) dies; its
    // replica takes over, and the killed node rejoins as the new primary's replica.
    const ingestSlot = "{auditlog-ingest}";
    const victim = await cluster.primaryFor(ingestSlot);
    await cluster.kill(victim);
    await until(
      "a replica to take over the ingest queue's slot",
      async () => (await cluster.primaryFor(ingestSlot)) !== victim,
      90_000,
    );
    await cluster.restart(victim);
    await cluster.waitUntilHealthy(90_000);
    await acknowledgedAtLeast(120);
    await host("api-2").killAll();
    await acknowledgedAtLeast(170);
    await host("worker-2").reconnect();
    await acknowledgedAtLeast(210);
    const reports: LoadReport[] = await Promise.all(loads.map((load) => load.stop()));

    const acceptedIds = new Set(reports.flatMap((report) => report.acceptedIds));
    const pool = createTestPool(postgres.url);
    try {
      const counts = async () =>
        (
          await pool.query<{ rows: number; ids: number; markers: number; max_seq: number }>(
            `SELECT count(*)::int AS rows, count(DISTINCT id)::int AS ids,
                    count(DISTINCT target_id)::int AS markers, coalesce(max(seq), 0)::int AS max_seq
               FROM audit_entries WHERE org_id = $1`,
            [org.id],
          )
        ).rows[0] ?? { rows: 0, ids: 0, markers: 0, max_seq: 0 };
      await until(
        "every acknowledged event to be stored",
        async () => (await counts()).ids >= acceptedIds.size,
        180_000,
      );
      const stored = new Set(
        (
          await pool.query<{ id: string }>("SELECT id FROM audit_entries WHERE org_id = $1", [
            org.id,
          ])
        ).rows.map((row) => row.id),
      );
      const final = await counts();
      const missing = [...acceptedIds].filter((id) => !stored.has(id)).length;
      const figures = {
        requests: reports.reduce((sum, report) => sum + report.requests, 0),
        acknowledgedRequests: reports.reduce((sum, report) => sum + report.acknowledged, 0),
        gaveUp: reports.reduce((sum, report) => sum + report.gaveUp, 0),
        acknowledgedEvents: acceptedIds.size,
        storedRows: final.rows,
        missing,
        // The same event (its unique target marker) stored under two ids, or one id twice.
        duplicated: final.rows - final.markers,
        killedRedisPrimary: victim,
        maxSeq: final.max_seq,
        answers: reports.map((report) => report.answers),
      };
      console.log(`multi-host ingest: ${JSON.stringify(figures)}`);
      expect(figures.gaveUp).toBe(0);
      expect(missing).toBe(0);
      expect(figures.duplicated).toBe(0);
      expect(final.rows).toBe(final.ids);
      // Every stored row was acknowledged: none came from nowhere.
      expect(final.rows).toBe(acceptedIds.size);
      // The log stays gap-free however the work was spread.
      expect(final.max_seq).toBe(final.rows);
    } finally {
      await pool.end();
    }

    // An export requested on one API host downloads from the other, through the bucket (API 2
    // is gone: start a new process on that host, as an orchestrator would).
    apis["api-2"] = await startHostApi(host("api-2"), env);
    const { token } = await createMemberWithToken(org.slug, "admin", db);
    const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
    const requested = await fetch(`${api1}/v1/orgs/${org.slug}/exports`, {
      method: "POST",
      headers,
      body: JSON.stringify({ format: "ndjson" }),
    });
    expect(requested.status).toBe(202);
    const { id } = (await requested.json()) as { id: string };
    await until(
      "the export to be ready",
      async () => {
        const status = await fetch(`${apis["api-2"]?.url}/v1/orgs/${org.slug}/exports/${id}`, {
          headers,
        });
        return ((await status.json()) as { status: string }).status === "ready";
      },
      120_000,
    );
    const download = await fetch(
      `${apis["api-2"]?.url}/v1/orgs/${org.slug}/exports/${id}/download`,
      { headers },
    );
    expect(download.status).toBe(200);
    const lines = gunzipSync(Buffer.from(await download.arrayBuffer()))
      .toString("utf8")
      .trim()
      .split("\n");
    const objects = await s3.keys();
    console.log(
      `multi-host export: ${lines.length} entries downloaded from api-2; bucket objects: ${objects.length}`,
    );
    expect(objects.length).toBeGreaterThanOrEqual(1);
    // Ingest's own entries plus the export request's record, at most: the file covers them all.
    expect(lines.length).toBeGreaterThanOrEqual(acceptedIds.size);
  }, 600_000);
});
