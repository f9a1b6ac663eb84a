import type { ChildProcess } from "node:child_process";
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
} from "./support/test-stack.ts";

/**
 * Issue 14, "Sequence": a reader tailing the feed (after = the last seq it saw) while 100,000
 * events are ingested, each with a random `occurredAt` up to three weeks back, in shuffled
 * order, sees every accepted id exactly once. Polling by the sender's clock would miss every
 * back-dated event that arrives after the reader passed its time; the feed goes by `seq`.
 */

const totalEvents = 100_000;
const eventsPerPost = 500;
const concurrentPosters = 3;
const threeWeeksMs = 21 * 24 * 3_600_000;

describe("tailing the feed during ingestion", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let worker: ChildProcess | undefined;

  beforeAll(async () => {
    stack = await startTestApi({
      USER_RATE_LIMIT: "1000000",
      INGEST_RATE_LIMIT: "1000000",
      INGEST_MAX_QUEUED_JOBS: "100000",
      // Two cores shared with other suites: Redis may answer slowly; a 503 is retried below.
      REDIS_COMMAND_TIMEOUT_MS: "20000",
    });
  });
  afterAll(async () => {
    if (worker?.exitCode === null) worker.kill("SIGKILL");
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it(`sees each of ${totalEvents} back-dated, shuffled events exactly once`, {
    timeout: 300_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "tail");
    const { token } = await createMemberWithToken(org.slug, "admin");
    const now = Date.now();
    // Random times, so the posting order is already shuffled with respect to occurredAt.
    const occurredAt = Array.from({ length: totalEvents }, () =>
      new Date(now - Math.floor(Math.random() * threeWeeksMs)).toISOString(),
    );
    const started = Date.now();
    worker = spawnTestWorker(stack, { WORKER_ROLES: "ingest" });

    const accepted = new Set<string>();
    let posting = true;
    const seen = new Set<string>();
    let after = 0;
    let polls = 0;
    let outOfTimeOrder = 0;
    let latestOccurred = "";
    const tail = async () => {
      const deadline = Date.now() + 280_000;
      while (posting || seen.size < accepted.size) {
        if (Date.now() > deadline) {
          throw new Error(`tail: saw ${seen.size} of ${accepted.size} before its deadline`);
        }
        const { status, body } = await getJson<FeedPage>(
          stack.app,
          `/v1/orgs/${org.slug}/audit-logs/feed?after=${after}&limit=1000`,
          token,
        );
        expect(status).toBe(200);
        const { entries } = feedPageSchema.parse(body);
        polls++;
        for (const entry of entries) {
          expect(entry.seq).toBe(after + 1);
          expect(seen.has(entry.id), `${entry.id} seen twice`).toBe(false);
          seen.add(entry.id);
          if (entry.occurredAt < latestOccurred) outOfTimeOrder++;
          else latestOccurred = entry.occurredAt;
          after = entry.seq;
        }
        if (entries.length < 1000) await new Promise((resolve) => setTimeout(resolve, 20));
      }
    };
    const tailing = tail();

    let nextPost = 0;
    let retried = 0;
    const poster = async () => {
      for (let p = nextPost++; p * eventsPerPost < totalEvents; p = nextPost++) {
        const events = Array.from({ length: eventsPerPost }, (_, i) => {
          const n = p * eventsPerPost + i;
          return sampleEvent(n, { occurredAt: occurredAt[n] });
        });
        // As a client should: a 503 is retried with the same Idempotency-Key, so a job that
        // reached Redis after all is not stored twice (and spends no seq).
        let response = await post(
          stack.app,
          apiKey,
          { events },
          { "idempotency-key": `tail-${p}` },
        );
        for (let retry = 0; response.status === 503 && retry < 5; retry++) {
          retried++;
          response = await post(stack.app, apiKey, { events }, { "idempotency-key": `tail-${p}` });
        }
        expect(response.status).toBe(202);
        for (const id of ((await response.json()) as { ids: string[] }).ids) accepted.add(id);
      }
    };
    const posted = Promise.all(Array.from({ length: concurrentPosters }, poster)).finally(() => {
      posting = false;
    });
    // Either failing fails the test at once.
    await Promise.all([posted, tailing]);
    expect(accepted.size).toBe(totalEvents);
    const seconds = (Date.now() - started) / 1000;

    expect(seen.size).toBe(totalEvents);
    expect([...accepted].filter((id) => !seen.has(id))).toEqual([]);
    expect(after).toBe(totalEvents);
    // The point of the feed: most entries arrived behind one the reader had already passed in
    // time order, and it still got them.
    expect(outOfTimeOrder).toBeGreaterThan(totalEvents / 2);
    console.log(
      `feed tail: ${totalEvents} events accepted, ${seen.size} seen once each, 0 missed, 0 twice; ${outOfTimeOrder} arrived older than one already seen; ${polls} polls; ${retried} posts retried after a 503; ${seconds.toFixed(1)} s`,
    );
  });
});
