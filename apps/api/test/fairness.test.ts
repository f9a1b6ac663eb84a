import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase } from "@auditlog/db/testing";
import { exportSchema } from "@auditlog/events";
import type { startWorker } from "@auditlog/worker";
import { afterAll, describe, expect, it } from "vitest";
import { listen, SseClient } from "./support/sse-client.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

/**
 * One tenant must not slow every other (issue 13 §14): caps and quotas per organisation, per
 * person, per key and per process, each answered with a clear 429 or 503 and the RateLimit
 * fields of draft-ietf-httpapi-ratelimit-headers.
 */
const db = createTestDatabase();
const { pool } = driversOf(db);
const stacks: Stack[] = [];
const cleanups: (() => Promise<unknown>)[] = [];

async function stackWith(env: Record<string, string>) {
  const stack = await startTestApi(env);
  stacks.push(stack);
  return stack;
}

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch(() => {});
  for (const stack of stacks) {
    await stack.services.exportQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.close();
  }
  await db.close();
});

function get(stack: Stack, path: string, token: string) {
  return stack.app.request(path, { headers: { authorization: `Bearer ${token}` } });
}

function requestExport(stack: Stack, orgSlug: string, token: string) {
  return stack.app.request(`/v1/orgs/${orgSlug}/exports`, {
    method: "POST",
    headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
    body: JSON.stringify({ format: "ndjson" }),
  });
}

/**
 * Holds an ACCESS EXCLUSIVE lock on the partition of `orgId`'s entries, so every query of that
 * organisation waits (deterministically, for as long as the test holds it).
 */
async function lockEntriesOf(orgId: string): Promise<{ release(): Promise<void> }> {
  const { rows } = await pool.query<{ name: string }>(
    `SELECT c.oid::regclass::text AS name FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid
      WHERE i.inhparent = 'audit_entries'::regclass
        AND satisfies_hash_partition('audit_entries'::regclass,
              (SELECT count(*)::int FROM pg_inherits WHERE inhparent = 'audit_entries'::regclass),
              substring(pg_get_expr(c.relpartbound, c.oid) from 'remainder ([0-9]+)')::int, $1::text)`,
    [orgId],
  );
  const partition = rows[0]?.name;
  if (!partition) throw new Error(`no partition for ${orgId}`);
  const client = await pool.connect();
  await client.query("BEGIN");
  await client.query(`LOCK TABLE ${partition} IN ACCESS EXCLUSIVE MODE`);
  return {
    async release() {
      await client.query("ROLLBACK");
      client.release();
    },
  };
}

/** Two organisations whose entries live in different partitions. */
async function orgsInTwoPartitions(label: string) {
  const partitionOf = async (orgId: string) =>
    (
      await pool.query<{ p: string }>(
        `SELECT tableoid::regclass::text AS p FROM audit_entries WHERE org_id = $1 LIMIT 1`,
        [orgId],
      )
    ).rows[0]?.p;
  const first = await createOrgWithKey("team", `${label}-a`);
  await insertRows([entryRow(first.org.id)]);
  for (let attempt = 0; attempt < 50; attempt++) {
    const second = await createOrgWithKey("team", `${label}-b`);
    await insertRows([entryRow(second.org.id)]);
    if ((await partitionOf(second.org.id)) !== (await partitionOf(first.org.id))) {
      return [first, second] as const;
    }
  }
  throw new Error("no two organisations in different partitions");
}

describe("exports: a cap per organisation, and fair scheduling between organisations", () => {
  it("accepts at most EXPORT_MAX_PENDING_PER_ORG queued or running exports, even sent at once; others still get theirs", async () => {
    const stack = await stackWith({ EXPORT_MAX_PENDING_PER_ORG: "3" });
    const busy = await createOrgWithKey("team", "cap-busy");
    const busyAdmin = await createMemberWithToken(busy.org.slug, "admin");
    const responses = await Promise.all(
      Array.from({ length: 10 }, () => requestExport(stack, busy.org.slug, busyAdmin.token)),
    );
    const statuses = responses.map((r) => r.status).sort();
    expect(statuses).toEqual([202, 202, 202, 429, 429, 429, 429, 429, 429, 429]);
    const refused = responses.find((r) => r.status === 429);
    expect(refused?.headers.get("retry-after")).toBe("30");
    expect(await refused?.json()).toMatchObject({
      error: { code: "rate_limited", message: expect.stringContaining("3 exports queued") },
    });
    const { rows } = await pool.query("SELECT 1 FROM exports WHERE org_id = $1", [busy.org.id]);
    expect(rows).toHaveLength(3);

    const other = await createOrgWithKey("team", "cap-other");
    const otherAdmin = await createMemberWithToken(other.org.slug, "admin");
    expect((await requestExport(stack, other.org.slug, otherAdmin.token)).status).toBe(202);
  });

  it("builds another organisation's first export before this one's second and third", {
    timeout: 60_000,
  }, async () => {
    const stack = await stackWith({ EXPORT_MAX_PENDING_PER_ORG: "5" });
    const heavy = await createOrgWithKey("team", "fair-heavy");
    const light = await createOrgWithKey("team", "fair-light");
    await insertRows([entryRow(heavy.org.id), entryRow(light.org.id)]);
    const heavyAdmin = await createMemberWithToken(heavy.org.slug, "admin");
    const lightAdmin = await createMemberWithToken(light.org.slug, "admin");
    const ids: string[] = [];
    for (const [slug, token] of [
      [heavy.org.slug, heavyAdmin.token],
      [heavy.org.slug, heavyAdmin.token],
      [heavy.org.slug, heavyAdmin.token],
      [light.org.slug, lightAdmin.token],
    ] as const) {
      const response = await requestExport(stack, slug, token);
      expect(response.status).toBe(202);
      ids.push(exportSchema.parse(await response.json()).id);
    }
    const [heavy1, heavy2, heavy3, light1] = ids as [string, string, string, string];
    // One build at a time, so the order they start in is the queue's order.
    const worker: Awaited<ReturnType<typeof startWorker>> = await startTestWorker(stack, {
      WORKER_ROLES: "exports,notifications",
      EXPORT_CONCURRENCY: "1",
    });
    cleanups.push(() => worker.stop());
    const started = await waitFor(
      async () =>
        (
          await pool.query<{ id: string; started_at: Date | null; status: string }>(
            "SELECT id, started_at, status FROM exports WHERE id = ANY($1)",
            [ids],
          )
        ).rows,
      (rows) => rows.every((row) => row.status === "ready"),
      45_000,
    );
    const order = [...started]
      .sort((a, b) => (a.started_at?.getTime() ?? 0) - (b.started_at?.getTime() ?? 0))
      .map((row) => row.id);
    expect(order).toEqual([heavy1, light1, heavy2, heavy3]);
  });
});

describe("statement timeout", () => {
  it("answers a query PostgreSQL cancels with 422 query_too_broad, not a 500", async () => {
    const stack = await stackWith({ API_STATEMENT_TIMEOUT_MS: "300" });
    const { org } = await createOrgWithKey("team", "slow-query");
    await insertRows([entryRow(org.id)]);
    const admin = await createMemberWithToken(org.slug, "admin");
    const lock = await lockEntriesOf(org.id);
    try {
      const started = Date.now();
      const response = await get(stack, `/v1/orgs/${org.slug}/audit-logs`, admin.token);
      expect(response.status).toBe(422);
      expect(await response.json()).toMatchObject({
        error: { code: "query_too_broad", message: expect.stringContaining("narrow the filter") },
      });
      // Cancelled by the timeout, not by the lock going away: a generous bound, not a speed test.
      expect(Date.now() - started).toBeLessThan(10_000);
    } finally {
      await lock.release();
    }
    expect((await get(stack, `/v1/orgs/${org.slug}/audit-logs`, admin.token)).status).toBe(200);
  });
});

describe("request quotas per person and per key", () => {
  it("counts each personal access token on its own, with RateLimit fields and Retry-After on 429", async () => {
    const stack = await stackWith({ USER_RATE_LIMIT: "3", USER_RATE_LIMIT_WINDOW_SECONDS: "60" });
    const { org } = await createOrgWithKey("team", "quota-user");
    const alice = await createMemberWithToken(org.slug, "admin");
    const bob = await createMemberWithToken(org.slug, "admin");
    const path = `/v1/orgs/${org.slug}/audit-logs`;
    const remaining: string[] = [];
    for (let i = 0; i < 3; i++) {
      const response = await get(stack, path, alice.token);
      expect(response.status).toBe(200);
      expect(response.headers.get("ratelimit-policy")).toBe('"user";q=3;w=60');
      remaining.push(response.headers.get("ratelimit") ?? "");
    }
    expect(remaining.map((field) => /;r=(\d+);/.exec(field)?.[1])).toEqual(["2", "1", "0"]);
    const refused = await get(stack, path, alice.token);
    expect(refused.status).toBe(429);
    expect(await refused.json()).toMatchObject({ error: { code: "rate_limited" } });
    const retryAfter = Number(refused.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(refused.headers.get("ratelimit")).toMatch(/^"user";r=0;t=\d+$/);
    // Another person is not affected.
    expect((await get(stack, path, bob.token)).status).toBe(200);
  });

  it("counts ingestion per API key", async () => {
    const stack = await stackWith({
      INGEST_RATE_LIMIT: "2",
      INGEST_RATE_LIMIT_WINDOW_SECONDS: "60",
    });
    const first = await createOrgWithKey("team", "quota-key-a");
    const second = await createOrgWithKey("team", "quota-key-b");
    expect((await post(stack.app, first.apiKey, sampleEvent(1))).status).toBe(202);
    const last = await post(stack.app, first.apiKey, sampleEvent(2));
    expect(last.status).toBe(202);
    expect(last.headers.get("ratelimit")).toBe('"ingest";r=0;t=60');
    const refused = await post(stack.app, first.apiKey, sampleEvent(3));
    expect(refused.status).toBe(429);
    expect(refused.headers.get("ratelimit-policy")).toBe('"ingest";q=2;w=60');
    expect(Number(refused.headers.get("retry-after"))).toBeGreaterThan(0);
    expect((await post(stack.app, second.apiKey, sampleEvent(4))).status).toBe(202);
  });
});

describe("query slots per organisation", () => {
  it("lets one organisation run at most QUERY_SLOTS_PER_ORG queries at once in a process, while others go on", {
    timeout: 30_000,
  }, async () => {
    const stack = await stackWith({
      QUERY_SLOTS_PER_ORG: "1",
      QUERY_SLOT_WAIT_MS: "300",
      API_STATEMENT_TIMEOUT_MS: "20000",
    });
    const [busy, calm] = await orgsInTwoPartitions("slots");
    const busyAdmin = await createMemberWithToken(busy.org.slug, "admin");
    const calmAdmin = await createMemberWithToken(calm.org.slug, "admin");
    const lock = await lockEntriesOf(busy.org.id);
    let held: Promise<Response> | undefined;
    try {
      held = Promise.resolve(get(stack, `/v1/orgs/${busy.org.slug}/audit-logs`, busyAdmin.token));
      await waitFor(
        async () => stack.services.querySlots.running(busy.org.id),
        (n) => n === 1,
      );
      const second = await get(stack, `/v1/orgs/${busy.org.slug}/audit-logs`, busyAdmin.token);
      expect(second.status).toBe(429);
      expect(second.headers.get("ratelimit-policy")).toBe('"queries";q=1;qu="concurrent-requests"');
      expect(second.headers.get("retry-after")).toBe("1");
      // Another organisation is served while the first one's query waits.
      expect(
        (await get(stack, `/v1/orgs/${calm.org.slug}/audit-logs`, calmAdmin.token)).status,
      ).toBe(200);
    } finally {
      await lock.release();
    }
    expect((await held)?.status).toBe(200);
    expect(stack.services.querySlots.running(busy.org.id)).toBe(0);
  });
});

describe("live notification streams", () => {
  it("keeps at most SSE_MAX_STREAMS_PER_USER per user, closing the oldest, and refuses beyond SSE_MAX_STREAMS_PER_PROCESS", {
    timeout: 30_000,
  }, async () => {
    const stack = await stackWith({
      SSE_MAX_STREAMS_PER_USER: "2",
      SSE_MAX_STREAMS_PER_PROCESS: "3",
    });
    const http = await listen(stack.app);
    cleanups.push(() => http.close());
    const { org } = await createOrgWithKey("team", "streams");
    const alice = await createMemberWithToken(org.slug, "admin");
    const bob = await createMemberWithToken(org.slug, "admin");
    const url = `${http.url}/v1/notifications/stream`;
    const open = async (token: string) => {
      const client = await SseClient.open(url, token);
      cleanups.push(async () => client.close());
      return client;
    };
    const first = await open(alice.token);
    await first.waitForEvent("ready");
    const second = await open(alice.token);
    await second.waitForEvent("ready");
    const third = await open(alice.token);
    await third.waitForEvent("ready");
    // The oldest of Alice's streams was closed by the server; the two newest stay open.
    await first.waitForEnd(5_000);
    expect(stack.services.realtime.clientCount(alice.user.id)).toBe(2);

    const bobs = await open(bob.token);
    await bobs.waitForEvent("ready");
    expect(stack.services.realtime.clientCount()).toBe(3);
    // The process is full: a fourth stream is refused at once, with a hint to come back.
    const refused = await fetch(url, { headers: { authorization: `Bearer ${bob.token}` } });
    expect(refused.status).toBe(503);
    expect(refused.headers.get("retry-after")).toBe("5");
    expect(await refused.json()).toMatchObject({ error: { code: "service_unavailable" } });
  });
});
