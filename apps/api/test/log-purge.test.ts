import { mkdir, stat, writeFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import {
  createDatabase,
  type Database,
  purgeAgedEntries,
  readEntriesBySeq,
  upsertUserMembership,
  writeAuditEntries,
} from "@auditlog/db";
import { migrateDatabase } from "@auditlog/db/migrate";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestPool,
  type PrivatePostgres,
  startPrivatePostgres,
} from "@auditlog/db/testing";
import {
  type CheckpointKeys,
  type FeedPage,
  type InclusionProof,
  type LogCheckpoint,
  logVerificationSchema,
  newId,
} from "@auditlog/events";
import { producerFor } from "@auditlog/events/jobs";
import { GoInterop } from "@auditlog/tlog/go-interop";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree, type LifecycleSummary } from "@auditlog/worker";
import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerification } from "../src/cli/verify-command.ts";
import { verifyOrganisationLog } from "../src/transparency/verify-log.ts";
import {
  checkpointLines,
  expectConsistencyVerifies,
  expectInclusionVerifies,
  verifyNoteByHand,
} from "./support/log-proof-checks.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

// The daily lifecycle job (issue 16) on the real stack: a worker with the `lifecycle` role, its
// clock in the test's hands, purging what aged out while proofs and `verify` keep passing. On a
// PostgreSQL server of its own: a run with a clock 30 days ahead purges and ages every
// organisation's data, which on the shared test database would be other tests' data.

const logOrigin = "auditlog.localhost";
const signing = { signer: testCheckpointSigner, logOrigin };
const dayMs = 24 * 3600 * 1000;

let postgres: PrivatePostgres;
let db: Database;
let pool: ReturnType<typeof createTestPool>;
let stack: Awaited<ReturnType<typeof startTestApi>>;
let worker: Awaited<ReturnType<typeof startTestWorker>>;
let go: GoInterop;
let connection: Redis;
let lifecycleQueue: Queue;
let lifecycleEvents: QueueEvents;
/** The lifecycle job's clock: what the test sets is "now" for the next run. */
let clock = new Date();

beforeAll(async () => {
  postgres = await startPrivatePostgres();
  const url = postgres.url("auditlog_purge");
  await migrateDatabase(url);
  db = createDatabase({ url, poolSize: 4, ormPoolSize: 2 });
  pool = createTestPool(url);
  stack = await startTestApi({ DATABASE_URL: url, USER_RATE_LIMIT: "1000000" });
  const queueName = `test-lifecycle-${newId("evt").slice(-12)}`;
  worker = await startTestWorker(
    stack,
    {
      WORKER_ROLES: "ingest,lifecycle",
      LIFECYCLE_QUEUE: queueName,
      // The test adds each run itself, at the clock it chose.
      LIFECYCLE_INTERVAL_MS: "0",
      PURGE_BATCH_SIZE: "128",
      DEAD_LETTER_RETENTION_DAYS: "60",
      NOTIFICATION_RETENTION_DAYS: "60",
      SESSION_EXPIRED_RETENTION_DAYS: "7",
      EXPORT_RECORD_RETENTION_DAYS: "60",
    },
    { now: () => clock },
  );
  connection = new Redis(stack.env.REDIS_URL, { maxRetriesPerRequest: null });
  lifecycleQueue = new Queue(queueName, { connection });
  lifecycleEvents = new QueueEvents(queueName, { connection: connection.duplicate() });
  await lifecycleEvents.waitUntilReady();
  go = GoInterop.start();
}, 180_000);

afterAll(async () => {
  await go?.close();
  await lifecycleEvents?.close();
  await lifecycleQueue?.close();
  connection?.disconnect();
  await worker?.stop();
  await stack?.services.close();
  await pool?.end();
  await db?.close();
  await postgres?.destroy();
});

/** One run of the lifecycle job, as the scheduler adds it; answers what it did. */
async function runLifecycleJob(): Promise<LifecycleSummary> {
  const job = (await producerFor(lifecycleQueue, "lifecycle").add("lifecycle.run", {})) as Job;
  return (await job.waitUntilFinished(lifecycleEvents, 60_000)) as LifecycleSummary;
}

/** Writes `count` entries in one transaction; answers the latest time they were stored at. */
async function writeEntries(orgId: string, label: string, count: number): Promise<Date> {
  await writeAuditEntries(
    db,
    Array.from({ length: count }, (_, i) =>
      auditEntryRow(orgId, {
        id: `evt_${label}_${String(i).padStart(4, "0")}`,
        description: `${label} entry ${i}`,
        actorName: `user ${i % 7}`,
        data: { n: i },
      }),
    ),
  );
  const { rows } = await pool.query<{ at: Date }>(
    "SELECT max(stored_at) AS at FROM audit_entries WHERE org_id = $1",
    [orgId],
  );
  return rows[0]?.at as Date;
}

/** Builds the tree `every` leaves at a time until it covers the whole log. */
async function buildTree(orgId: string, every: number) {
  for (;;) {
    const { fromSize, treeSize } = await advanceLogTree(db, orgId, signing, every);
    if (treeSize === fromSize) return treeSize;
  }
}

async function storedSeqs(orgId: string): Promise<number[]> {
  const { rows } = await pool.query<{ seq: number }>(
    "SELECT seq::int AS seq FROM audit_entries WHERE org_id = $1 ORDER BY seq",
    [orgId],
  );
  return rows.map((row) => row.seq);
}

describe("the lifecycle job purges what aged out, and the log stays verifiable", () => {
  let kept: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let held: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let enterprise: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let keys: CheckpointKeys["keys"];
  let summary: LifecycleSummary;
  /** Roots of A's signed checkpoints, by tree size, as their notes sign them. */
  const roots = new Map<number, string>();

  const get = <T>(path: string) =>
    getJson<T>(stack.app, `/v1/orgs/${kept.slug}/audit-logs${path}`, admin);

  async function signedRoot(size: number): Promise<string> {
    const { status, body } = await get<LogCheckpoint>(`/checkpoint?treeSize=${size}`);
    expect(status).toBe(200);
    const root = checkpointLines(verifyNoteByHand(body.note, keys).text).root;
    roots.set(size, root);
    return root;
  }

  beforeAll(async () => {
    kept = (await createOrgWithKey("team", "purged", db)).org;
    held = (await createOrgWithKey("team", "held", db)).org;
    enterprise = (await createOrgWithKey("enterprise", "ent", db)).org;
    admin = (await createMemberWithToken(kept.slug, "admin", db)).token;
    await pool.query("INSERT INTO org_retention_settings (org_id, days) VALUES ($1, 30)", [
      kept.id,
    ]);
    await pool.query(
      `INSERT INTO org_retention_settings (org_id, days, legal_hold, legal_hold_reason)
       VALUES ($1, 30, true, 'Litigation hold')`,
      [held.id],
    );
    const oldAt = [
      await writeEntries(kept.id, "a_old", 300),
      await writeEntries(held.id, "b_old", 300),
      await writeEntries(enterprise.id, "c_old", 50),
    ].reduce((a, b) => (a > b ? a : b));
    await new Promise((resolve) => setTimeout(resolve, 50));
    await writeEntries(kept.id, "a_young", 40);
    await writeEntries(held.id, "b_young", 40);
    for (const org of [kept, held, enterprise]) await buildTree(org.id, 100);
    keys = (await getJson<CheckpointKeys>(stack.app, "/v1/checkpoint-keys", null)).body.keys;
    for (const size of [100, 300, 340]) await signedRoot(size);

    // 30 days after the last old entry was stored: A's and B's old entries are past their 30
    // days, the young ones are not, and the enterprise plan's default (365 days) keeps all of C.
    clock = new Date(oldAt.getTime() + 30 * dayMs + 1);
    summary = await runLifecycleJob();
  }, 180_000);

  it("removes the entries older than the retention, and only those", async () => {
    expect(summary.purged).toEqual([
      { orgId: kept.id, entries: 300, throughSeq: 300, retentionDays: 30 },
    ]);
    expect(summary.failed).toBe(0);
    expect(await storedSeqs(kept.id)).toEqual(
      expect.arrayContaining(Array.from({ length: 40 }, (_, i) => 301 + i)),
    );
    expect((await storedSeqs(kept.id))[0]).toBe(301);
    expect(await storedSeqs(enterprise.id)).toHaveLength(50);
  });

  it("leaves everything of an organisation under legal hold", async () => {
    expect(summary.held).toBe(1);
    expect(await storedSeqs(held.id)).toHaveLength(340);
  });

  it("records the purge in the organisation's own log", async () => {
    const [entry] = await waitFor(
      () => readEntriesBySeq(db, kept.id, 341, 341),
      (found) => found.length === 1,
    );
    expect(entry).toMatchObject({
      id: "purge-300",
      type: "org.audit_log.purge",
      actor: { type: "system", id: "auditlog-lifecycle" },
      target: { type: "organization", id: kept.slug },
      data: { entries: 300, throughSeq: 300, retentionDays: 30 },
    });
    expect(entry?.description).toContain("purged 300 entries");
    // Built into the tree like any entry: the checkpoint after the purge.
    expect(await buildTree(kept.id, 100)).toBe(341);
    await signedRoot(341);
  });

  it("serves an inclusion proof of every remaining entry that verifies against the new checkpoint", async () => {
    const root = roots.get(341) as string;
    const remaining = await readEntriesBySeq(db, kept.id, 1, 341);
    expect(remaining.map((e) => e.seq)).toEqual(Array.from({ length: 41 }, (_, i) => 301 + i));
    for (const entry of remaining) {
      const { status, body } = await get<InclusionProof>(`/${entry.id}/proof?treeSize=341`);
      expect(status, entry.id).toBe(200);
      expect(body.leafIndex).toBe(entry.seq - 1);
      await expectInclusionVerifies(go, body, root);
    }
  });

  it("proves the checkpoints before the purge consistent with the one after", async () => {
    for (const from of [100, 300, 340]) {
      const { status, body } = await get<{ fromSize: number; toSize: number; proof: string[] }>(
        `/consistency?from=${from}&to=341`,
      );
      expect(status).toBe(200);
      await expectConsistencyVerifies(
        go,
        body,
        roots.get(from) as string,
        roots.get(341) as string,
      );
    }
  });

  it("answers a proof asked for a purged entry with a 404 that says entries were purged", async () => {
    const { status, body } = await get<{ error: { code: string; message: string } }>(
      "/evt_a_old_0007/proof",
    );
    expect(status).toBe(404);
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toContain("entries 1 to 300 were purged");
  });

  it("starts the feed at the first entry still held", async () => {
    const { status, body } = await get<FeedPage>("/feed?after=0&limit=3");
    expect(status).toBe(200);
    expect(body.entries.map((e) => e.seq)).toEqual([301, 302, 303]);
  });

  it("verifies the whole log from the stored leaves of the purged range, and says where it starts", async () => {
    const { status, body } = await get<unknown>("/verify");
    expect(status).toBe(200);
    expect(logVerificationSchema.parse(body)).toEqual(body);
    expect(body).toEqual({
      ok: true,
      treeSize: 341,
      rootHash: roots.get(341),
      logSize: 341,
      retainedFrom: 301,
    });
    const text = formatVerification(kept.slug, body as never);
    expect(text).toContain("entries 1 to 300 were purged by the retention");
    // The organisation under hold: nothing purged, its whole log from its entries.
    const whole = await verifyOrganisationLog({
      db,
      orgId: held.id,
      verifiers: [testCheckpointSigner.verifierKey],
      logOrigin,
    });
    expect(whole).toMatchObject({ ok: true, treeSize: 340, retainedFrom: 1 });
  });

  it("still finds a remaining entry tampered with, and a purged leaf changed in the stored tree", async () => {
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET description = 'nothing happened' WHERE org_id = $1 AND seq = 320",
      [kept.id],
    );
    const verify = () =>
      verifyOrganisationLog({
        db,
        orgId: kept.id,
        verifiers: [testCheckpointSigner.verifierKey],
        logOrigin,
      });
    const changed = await verify();
    expect(changed).toMatchObject({ ok: false, firstBad: { seq: 320, reason: "changed" } });
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET description = 'a_young entry 19' WHERE org_id = $1 AND seq = 320",
      [kept.id],
    );
    expect(await verify()).toMatchObject({ ok: true });

    // The purged range's only record is the level-0 tile: a leaf hash changed there no longer
    // gives the signed roots.
    await bypassingAppendOnly(
      pool,
      `UPDATE audit_log_tiles SET hashes = overlay(hashes placing '\\x00'::bytea from 33 * 32 + 1)
       WHERE org_id = $1 AND level = 0 AND index = 0`,
      [kept.id],
    );
    const result = await verify();
    expect(result.ok).toBe(false);
  });
});

describe("a purge the worker could not record", () => {
  it("is recorded by the next run, once, with every entry it removed", async () => {
    const { org } = await createOrgWithKey("team", "unrecorded", db);
    await pool.query("INSERT INTO org_retention_settings (org_id, days) VALUES ($1, 30)", [org.id]);
    const storedAt = await writeEntries(org.id, "d_old", 120);
    expect(await buildTree(org.id, 100)).toBe(120);
    // What a worker killed between the purge's last batch and its record leaves: the entries
    // gone, nothing in the log says so.
    clock = new Date(storedAt.getTime() + 31 * dayMs);
    const purged = await purgeAgedEntries(db, org.id, {
      storedBefore: new Date(clock.getTime() - 30 * dayMs),
    });
    expect(purged).toMatchObject({ entries: 120, throughSeq: 120 });

    const summary = await runLifecycleJob();
    // Nothing left to purge this run; the record of the earlier purge is made all the same.
    expect(summary.purged.map((p) => p.orgId)).not.toContain(org.id);
    const [entry] = await waitFor(
      () => readEntriesBySeq(db, org.id, 121, 121),
      (found) => found.length === 1,
    );
    expect(entry).toMatchObject({
      id: "purge-120",
      type: "org.audit_log.purge",
      data: { entries: 120, throughSeq: 120, retentionDays: 30 },
    });
    const recordedThrough = async () =>
      (
        await pool.query<{ through: number }>(
          "SELECT purge_recorded_through::int AS through FROM audit_log_heads WHERE org_id = $1",
          [org.id],
        )
      ).rows[0]?.through;
    expect(await recordedThrough()).toBe(120);

    // A later run has nothing to add (the record's id would dedupe it anyway; the mark says
    // the run did not even queue one).
    await runLifecycleJob();
    expect(await recordedThrough()).toBe(120);
  });
});

describe("the lifecycle job ages the other data", () => {
  it("removes dead letters, notifications, expired sessions and finished exports past their periods", async () => {
    const { org } = await createOrgWithKey("team", "ageing", db);
    const { user } = await upsertUserMembership(db, {
      email: `ageing-${newId("usr").slice(-8)}@example.test`,
      name: "Ageing",
      passwordHash: "not-used",
      orgSlug: org.slug,
      role: "admin",
    });
    const now = Date.now();
    const ago = (days: number) => new Date(now - days * dayMs).toISOString();
    const ahead = (days: number) => new Date(now + days * dayMs).toISOString();
    // The run's clock is 30 days ahead: "old" rows are 61 days old then, "recent" ones 31.
    clock = new Date(now + 30 * dayMs);
    for (const [key, at] of [
      ["old", ago(31)],
      ["recent", ago(1)],
    ] as const) {
      await pool.query(
        `INSERT INTO dead_letters (org_id, dedupe_key, reason, payload, received_at, created_at)
         VALUES ($1, $2, 'invalid', '{}', $3, $3)`,
        [org.id, key, at],
      );
      await pool.query(
        `INSERT INTO notifications (id, user_id, org_id, kind, title, body, created_at)
         VALUES ($1, $2, $3, 'export.ready', 'Export ready', 'ready', $4)`,
        [`ntf_${key}`, user.id, org.id, at],
      );
    }
    // Sessions: expired 20 days before the run's now (gone), 2 days before (kept a week), live.
    for (const [id, expires] of [
      ["ses_expired_long", ahead(10)],
      ["ses_expired_recently", ahead(28)],
      ["ses_live", ahead(40)],
    ] as const) {
      await pool.query(
        `INSERT INTO sessions (id, user_id, token_hash, csrf_token, expires_at)
         VALUES ($1, $2, $3, 'csrf', $4)`,
        [id, user.id, Buffer.alloc(32, id.length), expires],
      );
    }
    // Exports: an old failed one (its partial file left), a recent failed one, and a ready one
    // whose file expires before the run's now.
    const storageDir = stack.env.EXPORT_STORAGE_DIR;
    const file = async (key: string) => {
      await mkdir(dirname(join(storageDir, key)), { recursive: true });
      await writeFile(join(storageDir, key), "gz");
      return key;
    };
    const exists = (key: string) =>
      stat(join(storageDir, key)).then(
        () => true,
        () => false,
      );
    const oldFailedFile = await file(`${org.id}/exp_old-1.ndjson.gz`);
    const readyFile = await file(`${org.id}/exp_ready-1.ndjson.gz`);
    await pool.query(
      `INSERT INTO exports (id, org_id, requested_by, requested_by_name, format, status,
         finished_at, expires_at, storage_key, file_size, attempts)
       VALUES ('exp_old', $1, $2, 'Ageing', 'ndjson', 'failed', $3, NULL, NULL, NULL, 1),
              ('exp_recent', $1, $2, 'Ageing', 'ndjson', 'failed', $4, NULL, NULL, NULL, 1),
              ('exp_ready', $1, $2, 'Ageing', 'ndjson', 'ready', $4, $5, $6, 2, 1)`,
      [org.id, user.id, ago(31), ago(1), ahead(6), readyFile],
    );

    const result = await runLifecycleJob();
    expect(result).toMatchObject({
      deadLetters: 1,
      notifications: 1,
      sessions: 1,
      exportsExpired: 1,
      exportsRemoved: 1,
    });
    const column = async (sql: string, value: string) =>
      (await pool.query<{ v: string }>(sql, [value])).rows.map((row) => row.v).sort();
    expect(
      await column("SELECT dedupe_key AS v FROM dead_letters WHERE org_id = $1", org.id),
    ).toEqual(["recent"]);
    expect(await column("SELECT id AS v FROM notifications WHERE org_id = $1", org.id)).toEqual([
      "ntf_recent",
    ]);
    expect(await column("SELECT id AS v FROM sessions WHERE user_id = $1", user.id)).toEqual([
      "ses_expired_recently",
      "ses_live",
    ]);
    expect(
      await column("SELECT id || ':' || status AS v FROM exports WHERE org_id = $1", org.id),
    ).toEqual(["exp_ready:expired", "exp_recent:failed"]);
    expect(await exists(oldFailedFile)).toBe(false);
    expect(await exists(readyFile)).toBe(false);
  });
});

describe("the lifecycle schedule", () => {
  it("is a BullMQ job scheduler on the lifecycle queue, every LIFECYCLE_INTERVAL_MS", async () => {
    const queueName = `test-lifecycle-sched-${newId("evt").slice(-12)}`;
    const scheduling = await startTestWorker(
      stack,
      { WORKER_ROLES: "lifecycle", LIFECYCLE_QUEUE: queueName, LIFECYCLE_INTERVAL_MS: "86400000" },
      { now: () => clock },
    );
    const queue = new Queue(queueName, { connection });
    try {
      const schedulers = await queue.getJobSchedulers();
      expect(schedulers).toEqual([
        expect.objectContaining({ key: "lifecycle.run", name: "lifecycle.run", every: 86_400_000 }),
      ]);
    } finally {
      await scheduling.stop();
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});
