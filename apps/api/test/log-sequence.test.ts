import type { ChildProcess } from "node:child_process";
import { createTestPool } from "@auditlog/db/testing";
import { type FeedPage, feedPageSchema } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  post,
  sampleEvent,
  spawnTestWorker,
  startTestApi,
  waitForQueueDrained,
} from "./support/test-stack.ts";

/**
 * Issue 14, "Sequence": one organisation's events, ingested through the API while two worker
 * processes (16 jobs in flight each) write them, get `seq` 1..N with no gap or repeat, in commit
 * order: an observer tailing the feed during ingestion never finds a hole (each page starts at
 * after + 1 and is contiguous), and no later read reveals an entry at a seq it had already
 * passed. A reader that has seen N has seen everything before it.
 */

const posts = 320;
const eventsPerPost = 25;
const concurrentPosters = 6;

function spawnWorker(stack: Awaited<ReturnType<typeof startTestApi>>): ChildProcess {
  // Only the ingest consumer: the test is about writes, and two cores are shared.
  return spawnTestWorker(stack, { WORKER_CONCURRENCY: "16", WORKER_ROLES: "ingest" });
}

interface ObserverReport {
  polls: number;
  pagesWithEntries: number;
  /** Entries read again (the observer re-reads a little behind its position on purpose). */
  reread: number;
  largestPage: number;
}

describe("seq under concurrent workers", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  const pool = createTestPool();
  const workers: ChildProcess[] = [];

  beforeAll(async () => {
    stack = await startTestApi({
      // The observer polls as fast as it can with one token; the posters share one key.
      USER_RATE_LIMIT: "1000000",
      INGEST_RATE_LIMIT: "1000000",
      INGEST_MAX_QUEUED_JOBS: "100000",
    });
  });
  afterAll(async () => {
    for (const worker of workers) if (worker.exitCode === null) worker.kill("SIGKILL");
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    await pool.end();
  });

  it("is 1..N with no gap or repeat, and a reader tailing the feed never sees a hole", {
    timeout: 300_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "seq");
    const { token } = await createMemberWithToken(org.slug, "admin");
    const total = posts * eventsPerPost;
    const started = Date.now();
    workers.push(spawnWorker(stack), spawnWorker(stack));

    // The observer: polls the feed from a little behind what it has seen (0–50 entries back,
    // a random page size), so every page also re-reads entries it already has.
    const idAtSeq = new Map<number, string>();
    let maxSeen = 0;
    let ingesting = true;
    const report: ObserverReport = { polls: 0, pagesWithEntries: 0, reread: 0, largestPage: 0 };
    const observe = async () => {
      const deadline = Date.now() + 240_000;
      while (ingesting || maxSeen < total) {
        if (Date.now() > deadline) {
          throw new Error(`observer: saw ${maxSeen} of ${total} entries before its deadline`);
        }
        const after = Math.max(0, maxSeen - Math.floor(Math.random() * 51));
        const limit = 1 + Math.floor(Math.random() * 1000);
        const { status, body } = await getJson<FeedPage>(
          stack.app,
          `/v1/orgs/${org.slug}/audit-logs/feed?after=${after}&limit=${limit}`,
          token,
        );
        expect(status).toBe(200);
        const { entries } = feedPageSchema.parse(body);
        report.polls++;
        expect(entries.length).toBeLessThanOrEqual(limit);
        // A page starts right after `after` and has no hole: whatever later commits, nothing
        // can ever appear at a seq the observer has already passed.
        entries.forEach((entry, i) => {
          expect(entry.seq, `page after=${after}, entry ${i}`).toBe(after + 1 + i);
          const known = idAtSeq.get(entry.seq);
          if (known !== undefined) {
            expect(entry.id, `seq ${entry.seq} read again`).toBe(known);
            report.reread++;
          } else {
            expect(entry.seq, "an entry behind what the observer has seen").toBe(maxSeen + 1);
            idAtSeq.set(entry.seq, entry.id);
            maxSeen = entry.seq;
          }
        });
        // Whatever a page holds beyond `after`, it reaches as far as the observer had seen.
        if (after < maxSeen) expect(entries.length).toBeGreaterThan(0);
        if (entries.length > 0) report.pagesWithEntries++;
        report.largestPage = Math.max(report.largestPage, entries.length);
        if (entries.length < limit) await new Promise((resolve) => setTimeout(resolve, 5));
      }
    };
    const observer = observe();

    const accepted: string[] = [];
    let next = 0;
    const poster = async () => {
      for (let p = next++; p < posts; p = next++) {
        const events = Array.from({ length: eventsPerPost }, (_, i) =>
          sampleEvent(p * eventsPerPost + i),
        );
        const response = await post(stack.app, apiKey, { events });
        expect(response.status).toBe(202);
        accepted.push(...((await response.json()) as { ids: string[] }).ids);
      }
    };
    const ingested = (async () => {
      await Promise.all(Array.from({ length: concurrentPosters }, poster));
      expect(accepted).toHaveLength(total);
      await waitForQueueDrained(stack.services.ingestQueue, 180_000);
    })().finally(() => {
      ingesting = false;
    });
    // Either failing fails the test at once.
    await Promise.all([ingested, observer]);
    const seconds = (Date.now() - started) / 1000;

    const { rows } = await pool.query<{ seq: number; id: string }>(
      "SELECT seq::int AS seq, id FROM audit_entries e WHERE org_id = $1 ORDER BY e.seq",
      [org.id],
    );
    expect(rows.map((row) => row.seq)).toEqual(Array.from({ length: total }, (_, i) => i + 1));
    expect(new Set(rows.map((row) => row.id))).toEqual(new Set(accepted));
    // The observer saw the same log, entry for entry.
    expect(rows.map((row) => row.id)).toEqual(
      Array.from({ length: total }, (_, i) => idAtSeq.get(i + 1)),
    );
    const head = await pool.query<{ size: string }>(
      "SELECT size::text AS size FROM audit_log_heads WHERE org_id = $1",
      [org.id],
    );
    expect(Number(head.rows[0]?.size)).toBe(total);
    for (const worker of workers) expect(worker.exitCode, "a worker died").toBeNull();
    console.log(
      `log sequence: ${total} events in ${posts} posts (${concurrentPosters} at once), 2 workers × 16 jobs; seq 1..${total}, no gap or repeat; observer: ${report.polls} polls, ${report.pagesWithEntries} pages with entries (largest ${report.largestPage}), ${report.reread} entries re-read unchanged, 0 holes; ${seconds.toFixed(1)} s`,
    );
  });
});
