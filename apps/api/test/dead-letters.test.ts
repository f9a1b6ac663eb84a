import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { insertDeadLetters } from "@auditlog/db";
import { createTestPool, testDatabaseUrl } from "@auditlog/db/testing";
import { type DeadLetterPage, deadLetterPageSchema } from "@auditlog/events";
import { catalogFingerprint } from "@auditlog/events/jobs";
import type { startWorker } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  type ReplayOutcome,
  replayDeadLetters,
  replayEventId,
} from "../src/dead-letters/dead-letter-replay.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitForQueueDrained,
} from "./support/test-stack.ts";

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/**
 * Issue 18: an event the worker refuses is visible to the organisation's admins with its reason
 * and failing field (its address truncated), and an operator's replay, once the cause is fixed,
 * stores it exactly once, however often it is replayed or raced.
 */
describe("dead letters: /v1/orgs/:org/dead-letters and auditlog dead-letters list|replay", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  const pool = createTestPool();

  beforeAll(async () => {
    stack = await startTestApi();
    worker = await startTestWorker(stack);
  });
  afterAll(async () => {
    await worker?.stop();
    await stack?.services.ingestQueue.obliterate({ force: true });
    await stack?.services.close();
    await pool.end();
  });

  /**
   * A job as an API of another catalog writes it: not stamped with this worker's fingerprint, so
   * the worker validates every event itself and refuses what its catalog refuses. That is how
   * dead letters happen in life (a deployment rolling out, or an older producer).
   */
  async function queueForeignJob(orgId: string, events: unknown[], catalog?: string) {
    await stack.services.jobs.ingest.add("ingest.batch", {
      orgId,
      receivedAt: new Date().toISOString(),
      ...(catalog ? { catalog } : {}),
      events,
    });
    await waitForQueueDrained(stack.services.ingestQueue);
  }

  async function list(slug: string, token: string, query = "") {
    const answer = await getJson<DeadLetterPage>(
      stack.app,
      `/v1/orgs/${slug}/dead-letters${query}`,
      token,
    );
    return { ...answer, text: JSON.stringify(answer.body) };
  }

  async function storedCount(orgId: string, id: string): Promise<number> {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1 AND id = $2",
      [orgId, id],
    );
    return Number(rows[0]?.n);
  }

  it("shows an event the worker refused to the org's admins, with its reason, failing field and only the truncated IP", async () => {
    const { org } = await createOrgWithKey("team", "dl-view", stack.services.db);
    const admin = await createMemberWithToken(org.slug, "admin", stack.services.db);
    const reader = await createMemberWithToken(org.slug, "read", stack.services.db);
    const other = await createOrgWithKey("team", "dl-other", stack.services.db);
    const otherAdmin = await createMemberWithToken(other.org.slug, "admin", stack.services.db);

    // The next two dead letters get ids of different lengths (…99, …100): newest first must be
    // by number, not by the ids' text.
    await pool.query(
      `SELECT setval(pg_get_serial_sequence('dead_letters', 'id'),
         power(10, length((last_value + 10)::text))::bigint - 2)
       FROM dead_letters_id_seq`,
    );
    await queueForeignJob(org.id, [
      // A type a newer catalog has and this worker's does not.
      sampleEvent(0, {
        id: "dl-unknown-type",
        type: "repo.teleport",
        context: { ip: "203.0.113.77", userAgent: "curl/8" },
      }),
      sampleEvent(1, { id: "dl-stored" }),
      // Data this catalog refuses: a repository without its name.
      sampleEvent(2, {
        id: "dl-bad-data",
        data: { repo: { type: "model" } },
        context: { ip: "2001:db8:1234:5678::9", userAgent: "curl/8" },
      }),
    ]);
    await queueForeignJob(other.org.id, [sampleEvent(3, { id: "dl-other", type: "repo.nope" })]);
    expect(await storedCount(org.id, "dl-stored")).toBe(1);

    const { status, body, text } = await list(org.slug, admin.token);
    expect(status).toBe(200);
    const page = deadLetterPageSchema.parse(body);
    // Newest first: the worker refused them in the job's order.
    expect(page.deadLetters.map((letter) => letter.eventId)).toEqual([
      "dl-bad-data",
      "dl-unknown-type",
    ]);
    const [badData, unknownType] = page.deadLetters;
    expect(unknownType).toMatchObject({
      eventType: "repo.teleport",
      reason: expect.stringContaining("unknown event type"),
      issues: [{ path: "type", message: "unknown event type" }],
      event: { id: "dl-unknown-type", context: { ip: "203.0.113.0", userAgent: "curl/8" } },
      replayedAt: null,
      replayedEventId: null,
    });
    expect(badData).toMatchObject({
      eventType: "repo.create",
      issues: [{ path: "data.repo.name", message: expect.any(String) }],
      event: { context: { ip: "2001:db8:1234::" } },
    });
    // Only the truncated addresses, anywhere in the answer.
    expect(text).not.toContain("203.0.113.77");
    expect(text).not.toContain("5678");
    expect(page.nextBefore).toBeNull();

    // Paged, newest first, by the `before` cursor.
    const first = deadLetterPageSchema.parse((await list(org.slug, admin.token, "?limit=1")).body);
    expect(first.deadLetters.map((l) => l.eventId)).toEqual(["dl-bad-data"]);
    expect(first.nextBefore).toBe(badData?.id);
    const second = deadLetterPageSchema.parse(
      (await list(org.slug, admin.token, `?limit=1&before=${first.nextBefore}`)).body,
    );
    expect(second.deadLetters.map((l) => l.eventId)).toEqual(["dl-unknown-type"]);
    expect(second.nextBefore).toBeNull();

    // Bad parameters name themselves.
    for (const [query, path] of [
      ["?limit=0", "limit"],
      ["?limit=101", "limit"],
      ["?before=abc", "before"],
      ["?before=99999999999999999999", "before"],
    ] as const) {
      const bad = await list(org.slug, admin.token, query);
      expect(bad.status, query).toBe(400);
      expect(bad.text).toContain(`"path":"${path}"`);
    }

    // Admins only; another organisation's admin sees neither them nor that the org exists.
    expect((await list(org.slug, reader.token)).status).toBe(403);
    expect((await list(org.slug, otherAdmin.token)).status).toBe(404);
    const otherPage = deadLetterPageSchema.parse(
      (await list(other.org.slug, otherAdmin.token)).body,
    );
    expect(otherPage.deadLetters.map((l) => l.eventId)).toEqual(["dl-other"]);
  });

  it("replays, after the cause is fixed, each refused event exactly once, however often and however raced", {
    timeout: 300_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "dl-replay", stack.services.db);
    const admin = await createMemberWithToken(org.slug, "admin", stack.services.db);

    // 1. A producer that leaves ids to others (an older API, an importer writing to the queue):
    // the event is valid, but the worker never invents an id, so it refuses it. The replay is
    // what fixes that: it gives the event an id derived from the dead letter.
    await queueForeignJob(org.id, [sampleEvent(10, { occurredAt: "2026-11-30T10:00:00Z" })]);

    // 2. A row PostgreSQL refused: a constraint of this deployment's schema (in life, a column
    // too narrow, a bad CHECK) that a later migration fixes. The job is stamped with this
    // catalog, as the API writes it.
    const refusedName = `refuse-me-${randomBytes(4).toString("hex")}`;
    const constraint = `dl_test_${randomBytes(4).toString("hex")}`;
    await pool.query(
      `ALTER TABLE audit_entries ADD CONSTRAINT ${constraint} CHECK (actor_name <> '${refusedName}')`,
    );
    try {
      await queueForeignJob(
        org.id,
        [
          sampleEvent(11, {
            id: "dl-pg-refused",
            occurredAt: "2026-11-30T11:00:00Z",
            actor: { type: "user", id: "u_11", name: refusedName },
          }),
        ],
        catalogFingerprint,
      );
    } finally {
      // The fix: the migration that drops the bad constraint.
      await pool.query(`ALTER TABLE audit_entries DROP CONSTRAINT ${constraint}`);
    }

    // 3. A type no catalog here knows: still refused after any fix of ours.
    await queueForeignJob(org.id, [sampleEvent(12, { id: "dl-still-bad", type: "repo.nope" })]);

    const before = deadLetterPageSchema.parse((await list(org.slug, admin.token)).body);
    const [stillBad, pgRefused, noId] = before.deadLetters;
    expect(noId).toMatchObject({
      eventId: null,
      issues: [{ path: "id", message: "missing (the API assigns one)" }],
    });
    expect(pgRefused).toMatchObject({
      eventId: "dl-pg-refused",
      reason: expect.stringMatching(/^refused by PostgreSQL.*23514/),
    });
    expect(stillBad).toMatchObject({ eventId: "dl-still-bad" });
    const { rows: keyRows } = await pool.query<{ dedupe_key: string }>(
      "SELECT dedupe_key FROM dead_letters WHERE id = $1",
      [noId?.id],
    );
    const derivedId = replayEventId(org.id, keyRows[0]?.dedupe_key ?? "");
    expect(await storedCount(org.id, "dl-pg-refused")).toBe(0);
    expect(await storedCount(org.id, derivedId)).toBe(0);

    // The operator replays everything not yet replayed, with the CLI.
    const replay = await cli("dead-letters", "replay", "--org", org.slug);
    expect(replay.outcomes).toEqual([
      { id: noId?.id, status: "replayed", eventId: derivedId },
      { id: pgRefused?.id, status: "replayed", eventId: "dl-pg-refused" },
      {
        id: stillBad?.id,
        status: "still_invalid",
        reason: "type unknown event type",
        issues: [{ path: "type", message: "unknown event type" }],
      },
    ]);
    await waitForQueueDrained(stack.services.ingestQueue);
    expect(await storedCount(org.id, derivedId)).toBe(1);
    expect(await storedCount(org.id, "dl-pg-refused")).toBe(1);

    // Replayed again, by id: nothing queued, still stored once.
    const again = await cli(
      "dead-letters",
      "replay",
      "--org",
      org.slug,
      "--id",
      noId?.id ?? "",
      "--id",
      pgRefused?.id ?? "",
    );
    expect((again.outcomes as ReplayOutcome[]).map((o) => o.status)).toEqual([
      "already_replayed",
      "already_replayed",
    ]);

    // A replay that stopped between queueing and marking (its marks lost) is run again: every
    // event is queued a second time, and each is still stored once, by its id.
    const forgetMarks = () =>
      pool.query(
        "UPDATE dead_letters SET replayed_at = NULL, replayed_event_id = NULL WHERE org_id = $1",
        [org.id],
      );
    await forgetMarks();
    const requeued = await replayDeadLetters(stack.services, { orgId: org.id });
    expect(requeued.map((o) => o.status)).toEqual(["replayed", "replayed", "still_invalid"]);
    await waitForQueueDrained(stack.services.ingestQueue);
    expect(await storedCount(org.id, derivedId)).toBe(1);
    expect(await storedCount(org.id, "dl-pg-refused")).toBe(1);

    // Two replays at once: whichever reads first queues, maybe both do; exactly one marks each
    // dead letter, and each event is still stored once.
    await forgetMarks();
    const raced = (
      await Promise.all([
        replayDeadLetters(stack.services, { orgId: org.id }),
        replayDeadLetters(stack.services, { orgId: org.id }),
      ])
    ).flat();
    for (const id of [noId?.id, pgRefused?.id]) {
      expect(raced.filter((o) => o.id === id && o.status === "replayed")).toHaveLength(1);
    }
    await waitForQueueDrained(stack.services.ingestQueue);
    expect(await storedCount(org.id, derivedId)).toBe(1);
    expect(await storedCount(org.id, "dl-pg-refused")).toBe(1);
    const { rows: all } = await pool.query<{ id: string; actor_name: string; ip: string }>(
      "SELECT id, actor_name, ip FROM audit_entries WHERE org_id = $1 ORDER BY id",
      [org.id],
    );
    expect(all).toEqual([
      { id: "dl-pg-refused", actor_name: refusedName, ip: "198.51.100.0" },
      { id: derivedId, actor_name: "user3", ip: "198.51.100.0" },
    ]);

    // The view says which entry each became; the still refused one waits for its fix.
    const after = deadLetterPageSchema.parse((await list(org.slug, admin.token)).body);
    expect(after.deadLetters.map((l) => [l.eventId, l.replayedEventId])).toEqual([
      ["dl-still-bad", null],
      ["dl-pg-refused", "dl-pg-refused"],
      [null, derivedId],
    ]);
    expect(after.deadLetters[1]?.replayedAt).toEqual(expect.any(String));

    const listed = await cli("dead-letters", "list", "--org", org.slug, "--limit", "2");
    expect((listed.deadLetters as { id: string }[]).map((l) => l.id)).toEqual([
      stillBad?.id,
      pgRefused?.id,
    ]);
  });

  it("unmarks a replayed dead letter when its replay is refused again, so it never shows replayed but unstored", async () => {
    const { org } = await createOrgWithKey("team", "dl-rerefused", stack.services.db);
    await queueForeignJob(org.id, [sampleEvent(20, { id: "dl-twice", type: "repo.nope" })]);
    const { rows } = await pool.query<{ id: string; dedupe_key: string; received_at: Date }>(
      "SELECT id::text, dedupe_key, received_at FROM dead_letters WHERE org_id = $1",
      [org.id],
    );
    const letter = rows[0];
    await pool.query(
      "UPDATE dead_letters SET replayed_at = now(), replayed_event_id = 'dl-twice' WHERE id = $1",
      [letter?.id],
    );
    // What a worker of an older catalog writes when it refuses the replayed event.
    await insertDeadLetters(stack.services.db, [
      {
        orgId: org.id,
        dedupeKey: letter?.dedupe_key ?? "",
        eventId: "dl-twice",
        eventType: "repo.nope",
        reason: "invalid event: refused again",
        issues: [{ path: "events[0].type", message: "unknown event type" }],
        payload: sampleEvent(20, { id: "dl-twice", type: "repo.nope" }),
        receivedAt: letter?.received_at ?? new Date(),
      },
    ]);
    const { rows: afterRows } = await pool.query(
      "SELECT id::text, reason, replayed_at, replayed_event_id FROM dead_letters WHERE org_id = $1",
      [org.id],
    );
    expect(afterRows).toEqual([
      {
        id: letter?.id,
        reason: "invalid event: refused again",
        replayed_at: null,
        replayed_event_id: null,
      },
    ]);
  });

  async function cli(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
      {
        cwd: apiDir,
        env: {
          ...process.env,
          DATABASE_URL: testDatabaseUrl,
          INGEST_QUEUE: stack.env.INGEST_QUEUE,
          LOG_LEVEL: "error",
        },
        timeout: 120_000,
      },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  }
});
