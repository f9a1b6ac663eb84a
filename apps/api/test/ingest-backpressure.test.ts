import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countEntries,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/** Real Redis and PostgreSQL: the gate reads the real queue's depth, a real worker drains it. */
describe("ingestion backpressure", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let apiKey: string;
  let orgId: string;

  beforeAll(async () => {
    stack = await startTestApi({ INGEST_MAX_QUEUED_JOBS: "2", INGEST_ADMISSION_WAIT_MS: "2000" });
    const created = await createOrgWithKey("team", "backpressure");
    apiKey = created.apiKey;
    orgId = created.org.id;
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it("holds requests while the queue is full, answers 429 after the wait, and lets them in once it drains", {
    timeout: 60_000,
  }, async () => {
    // No worker yet: two jobs fill the queue.
    for (const index of [1, 2]) {
      expect((await post(stack.app, apiKey, { events: [sampleEvent(index)] })).status).toBe(202);
    }
    await new Promise((resolve) => setTimeout(resolve, 150)); // the gate reads the depth anew

    const started = performance.now();
    const refused = await post(stack.app, apiKey, { events: [sampleEvent(3)] });
    expect(performance.now() - started).toBeGreaterThanOrEqual(1900);
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("1");
    const body = (await refused.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe("rate_limited");
    expect(body.error.requestId).toMatch(/^req_/);
    expect(await stack.services.ingestQueue.getWaitingCount()).toBe(2);

    // A request held at the gate goes through as soon as a worker makes room.
    const held = Promise.resolve(
      post(stack.app, apiKey, { events: [sampleEvent(4), sampleEvent(5)] }),
    );
    let settled = false;
    void held.then(() => {
      settled = true;
    });
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(settled).toBe(false);
    const worker = await startTestWorker(stack, {
      GEOIP_IPV4_DATABASE: "",
      GEOIP_IPV6_DATABASE: "",
    });
    try {
      const accepted = await held;
      expect(accepted.status).toBe(202);
      expect(((await accepted.json()) as { accepted: number }).accepted).toBe(2);
      // Everything accepted is stored; the refused event never was.
      expect(
        await waitFor(
          () => countEntries(orgId),
          (n) => n === 4,
        ),
      ).toBe(4);
    } finally {
      await worker.stop();
    }
  });
});
