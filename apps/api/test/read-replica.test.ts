import { type Database, insertAuditEntries } from "@auditlog/db";
import { migrateDatabase } from "@auditlog/db/migrate";
import {
  createTestDatabase,
  createTestPool,
  type PrivatePostgres,
  startPrivatePostgres,
  startPrivateReplica,
} from "@auditlog/db/testing";
import type { AuditExport } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetrics } from "./support/scrape-metrics.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  getJson,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

// The API against a primary and a streaming replica of the test's own (pg_basebackup, other
// ports): the replica's replay is paused to make a row exist on the primary only, which tells
// which server answered each route.
let primary: PrivatePostgres;
let replica: PrivatePostgres;
let replicaAdmin: ReturnType<typeof createTestPool>;
let writer: Database;
type Stack = Awaited<ReturnType<typeof startTestApi>>;
const stacks: Stack[] = [];
const metricsToken = "replica-metrics-token-0123456789";

interface ReadyBody {
  ready: boolean;
  checks: Record<string, string>;
  readReplica?: {
    readsFrom: string;
    lagMs: number | null;
    lagBytes: number | null;
    maxLagMs: number;
    reason?: string;
  };
  reasons?: string[];
}

async function stackWithReplica(maxLagMs: number): Promise<Stack> {
  const stack = await startTestApi({
    DATABASE_URL: primary.url("auditlog"),
    DATABASE_READ_URL: replica.url("auditlog"),
    READ_REPLICA_MAX_LAG_MS: String(maxLagMs),
    READ_REPLICA_CHECK_INTERVAL_MS: "100",
    METRICS_TOKEN: metricsToken,
  });
  stacks.push(stack);
  return stack;
}

const ready = async (stack: Stack) => {
  const response = await stack.app.request("/readyz");
  return { status: response.status, body: (await response.json()) as ReadyBody };
};

const printLag = (label: string, body: ReadyBody) =>
  console.log(
    `${label}: reads from ${body.readReplica?.readsFrom}, lag ${body.readReplica?.lagMs} ms, ${body.readReplica?.lagBytes} bytes of WAL (READ_REPLICA_MAX_LAG_MS ${body.readReplica?.maxLagMs})`,
  );

beforeAll(async () => {
  primary = await startPrivatePostgres();
  await migrateDatabase(primary.url("auditlog"));
  replica = await startPrivateReplica(primary);
  replicaAdmin = createTestPool(replica.url("auditlog"));
  writer = createTestDatabase(primary.url("auditlog"));
}, 120_000);

afterAll(async () => {
  await replicaAdmin?.query("SELECT pg_wal_replay_resume()").catch(() => {});
  await Promise.allSettled(stacks.map((stack) => stack.services.close()));
  await writer?.close();
  await replicaAdmin?.end();
  await replica?.destroy();
  await primary?.destroy();
});

describe("DATABASE_READ_URL", () => {
  it("sends the list, entry, histogram, facets, feed and Hub export reads to the replica; keys, export status and writes stay on the primary; past READ_REPLICA_MAX_LAG_MS reads fall back", async () => {
    const tolerant = await stackWithReplica(60_000);
    const strict = await stackWithReplica(1000);
    const { org } = await createOrgWithKey("team", "replica", writer);
    await insertAuditEntries(writer, [entryRow(org.id, { id: "evt_on_both" })]);
    const admin = (await createMemberWithToken(org.slug, "admin", writer)).token;
    for (const stack of [tolerant, strict]) {
      await waitFor(
        () => ready(stack),
        ({ body }) => body.readReplica?.readsFrom === "replica",
      );
    }
    const entry = (stack: Stack, id: string, token = admin) =>
      getJson(stack.app, `/v1/orgs/${org.slug}/audit-logs/${id}`, token);
    await waitFor(
      () => entry(tolerant, "evt_on_both"),
      ({ status }) => status === 200,
    );
    const caughtUp = await ready(tolerant);
    printLag("caught up", caughtUp.body);
    expect(caughtUp.status).toBe(200);
    expect(caughtUp.body.checks.readReplica).toBe("replica");
    expect(caughtUp.body.readReplica?.lagBytes).toBe(0);

    await replicaAdmin.query("SELECT pg_wal_replay_pause()");
    try {
      // Present on the primary only, from here on.
      await insertAuditEntries(writer, [entryRow(org.id, { id: "evt_primary_only" })]);
      // A key made now is known at once: credentials are checked on the primary.
      const fresh = (await createMemberWithToken(org.slug, "admin", writer)).token;
      const ids = (body: unknown) =>
        ((body as { entries: { id: string }[] }).entries ?? []).map((e) => e.id);
      const list = await getJson(tolerant.app, `/v1/orgs/${org.slug}/audit-logs`, fresh);
      expect(list.status).toBe(200);
      expect(ids(list.body)).toEqual(["evt_on_both"]);
      expect((await entry(tolerant, "evt_primary_only", fresh)).status).toBe(404);
      expect((await entry(tolerant, "evt_on_both", fresh)).status).toBe(200);
      const feed = await getJson(tolerant.app, `/v1/orgs/${org.slug}/audit-logs/feed`, fresh);
      expect(ids(feed.body)).toEqual(["evt_on_both"]);
      const histogram = await getJson<{ total: number }>(
        tolerant.app,
        `/v1/orgs/${org.slug}/audit-logs/histogram`,
        fresh,
      );
      expect(histogram.body.total).toBe(1);
      const facets = await getJson<{ counted: number }>(
        tolerant.app,
        `/v1/orgs/${org.slug}/audit-logs/facets`,
        fresh,
      );
      expect(facets.body.counted).toBe(1);
      const hub = await tolerant.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
        headers: { authorization: `Bearer ${fresh}` },
      });
      expect(hub.status).toBe(200);
      // The Hub's shape hides our ids: one entry, not two.
      expect(JSON.parse(await hub.text())).toHaveLength(1);

      // An export's status right after its request: the record is read on the primary.
      const requested = await tolerant.app.request(`/v1/orgs/${org.slug}/exports`, {
        method: "POST",
        headers: { authorization: `Bearer ${fresh}`, "content-type": "application/json" },
        body: JSON.stringify({ format: "ndjson" }),
      });
      expect(requested.status).toBe(202);
      const { id } = (await requested.json()) as { id: string };
      const status = await getJson<{ id: string; status: string }>(
        tolerant.app,
        `/v1/orgs/${org.slug}/exports/${id}`,
        fresh,
      );
      expect(status.status).toBe(200);
      expect(status.body).toMatchObject({ id, status: "queued" });

      // The strict API's bound is passed while replay stays paused: it reads the primary.
      const fellBack = await waitFor(
        async () => {
          await insertAuditEntries(writer, [entryRow(org.id)]);
          return ready(strict);
        },
        ({ body }) => body.readReplica?.readsFrom === "primary",
      );
      printLag("replay paused (strict API)", fellBack.body);
      expect(fellBack.status).toBe(200);
      expect(fellBack.body.checks.readReplica).toBe("primary");
      expect(fellBack.body.readReplica?.lagMs).toBeGreaterThan(1000);
      expect(fellBack.body.reasons).toEqual([
        expect.stringMatching(/^read replica \(reads on the primary\): the replica is behind/),
      ]);
      expect((await entry(strict, "evt_primary_only", fresh)).status).toBe(200);
      const scrape = await strict.app.request("/metrics", {
        headers: { authorization: `Bearer ${metricsToken}` },
      });
      const metrics = readMetrics(await scrape.text());
      expect(metrics.value("auditlog_read_replica_serving")).toBe(0);
      expect(metrics.value("auditlog_read_replica_lag_seconds")).toBeGreaterThan(1);
      expect(metrics.value("auditlog_read_replica_lag_bytes")).toBeGreaterThan(0);
      // The tolerant one still reads the replica.
      printLag("replay paused (tolerant API)", (await ready(tolerant)).body);
      expect((await entry(tolerant, "evt_primary_only", fresh)).status).toBe(404);
    } finally {
      await replicaAdmin.query("SELECT pg_wal_replay_resume()");
    }
    const back = await waitFor(
      () => ready(strict),
      ({ body }) => body.readReplica?.readsFrom === "replica",
    );
    printLag("replay resumed (strict API)", back.body);
    expect(back.body.reasons).toBeUndefined();
    expect((await entry(strict, "evt_primary_only")).status).toBe(200);
    expect((await entry(tolerant, "evt_primary_only")).status).toBe(200);
  });

  it("builds an export from the replica once it has replayed past the export's checkpoint, holding the entries written just before", async () => {
    const stack = await stackWithReplica(60_000);
    const { org } = await createOrgWithKey("team", "replica-export", writer);
    const admin = (await createMemberWithToken(org.slug, "admin", writer)).token;
    await insertAuditEntries(
      writer,
      Array.from({ length: 5 }, () => entryRow(org.id)),
    );
    const worker = await startTestWorker(stack, {
      DATABASE_READ_URL: replica.url("auditlog"),
      READ_REPLICA_MAX_LAG_MS: "60000",
      READ_REPLICA_CHECK_INTERVAL_MS: "100",
      METRICS: "true",
      WORKER_METRICS_PORT: "0",
    });
    try {
      const serving = async () =>
        (await worker.metrics?.registry.getSingleMetric("auditlog_read_replica_serving")?.get())
          ?.values[0]?.value;
      await waitFor(serving, (value) => value === 1);
      const exportOf = async (id: string) =>
        (await getJson<AuditExport>(stack.app, `/v1/orgs/${org.slug}/exports/${id}`, admin)).body;
      let id: string;
      await replicaAdmin.query("SELECT pg_wal_replay_pause()");
      try {
        // Written on the primary only; the export requested next must hold them all the same.
        await insertAuditEntries(
          writer,
          Array.from({ length: 3 }, () => entryRow(org.id)),
        );
        const requested = await stack.app.request(`/v1/orgs/${org.slug}/exports`, {
          method: "POST",
          headers: { authorization: `Bearer ${admin}`, "content-type": "application/json" },
          body: JSON.stringify({ format: "ndjson" }),
        });
        expect(requested.status).toBe(202);
        id = ((await requested.json()) as AuditExport).id;
        // Its checkpoint is signed on the primary; the entries wait for the replica to have it.
        await waitFor(
          () => exportOf(id),
          (record) => record.status === "running",
        );
        await new Promise((resolve) => setTimeout(resolve, 1500));
        expect(await exportOf(id)).toMatchObject({ status: "running", rowsWritten: 0 });
      } finally {
        await replicaAdmin.query("SELECT pg_wal_replay_resume()");
      }
      const done = await waitFor(
        () => exportOf(id),
        (record) => record.status !== "queued" && record.status !== "running",
        60_000,
      );
      expect(done).toMatchObject({ status: "ready", rowsWritten: 8 });
      expect(done.manifest?.rows).toBe(8);
    } finally {
      await worker.stop();
    }
  });
});
