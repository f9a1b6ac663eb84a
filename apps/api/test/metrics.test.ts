import { getExportById } from "@auditlog/db";
import { createTestDatabase } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import type { startWorker } from "@auditlog/worker";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { readMetrics } from "./support/scrape-metrics.ts";
import {
  countEntries,
  createMemberWithToken,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;
type Worker = Awaited<ReturnType<typeof startWorker>>;

const token = "metrics-scrape-token-for-tests";
const bearer = { authorization: `Bearer ${token}` };

/**
 * `/metrics` on the API and on the worker: Prometheus text (read by a parser we did not write),
 * whose counters move with what the stack did, and that nobody reads without being let in.
 */
describe("metrics", () => {
  let stack: Stack;
  let worker: Worker;
  let workerUrl: string;
  const db = createTestDatabase();
  const lifecycleQueue = `test-lifecycle-${newId("evt").slice(-12)}`;

  beforeAll(async () => {
    stack = await startTestApi({ METRICS_TOKEN: token });
    worker = await startTestWorker(stack, {
      METRICS_TOKEN: token,
      WORKER_METRICS_PORT: "0",
      LIFECYCLE_QUEUE: lifecycleQueue,
    });
    workerUrl = worker.metricsUrl as string;
  });
  afterAll(async () => {
    await worker.stop();
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    await db.close();
  });

  async function scrapeApi() {
    const response = await stack.app.request("/metrics", { headers: bearer });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^text\/plain; version=0\.0\.4/);
    return readMetrics(await response.text());
  }
  async function scrapeWorker() {
    const response = await fetch(workerUrl, { headers: bearer });
    expect(response.status).toBe(200);
    return readMetrics(await response.text());
  }

  it("counts accepted events, refused requests and events, committed events and job durations", async () => {
    const { apiKey } = await createOrgWithKey("team", "metrics");
    const apiBefore = await scrapeApi();
    const workerBefore = await scrapeWorker();
    const accepted = (m: typeof apiBefore) => m.value("auditlog_ingest_events_accepted_total") ?? 0;
    const committed = (m: typeof apiBefore) => m.value("auditlog_events_committed_total") ?? 0;
    const answered = (m: typeof apiBefore, status: string) =>
      m.value("auditlog_http_requests_total", { route: "/v1/events", method: "POST", status }) ?? 0;

    const sizes = [10, 10, 5];
    let sent = 0;
    for (const size of sizes) {
      const events = Array.from({ length: size }, (_, i) => sampleEvent(sent + i));
      expect((await post(stack.app, apiKey, { events })).status).toBe(202);
      sent += size;
    }
    // Two events, one invalid: the whole request is refused.
    const refused = await post(stack.app, apiKey, {
      events: [sampleEvent(0), { type: "repo.create" }],
    });
    expect(refused.status).toBe(400);
    expect((await post(stack.app, "key_not_a_real_one", sampleEvent(1))).status).toBe(401);

    const apiAfter = await scrapeApi();
    expect(accepted(apiAfter) - accepted(apiBefore)).toBe(sent);
    expect(answered(apiAfter, "202") - answered(apiBefore, "202")).toBe(sizes.length);
    expect(answered(apiAfter, "400") - answered(apiBefore, "400")).toBe(1);
    expect(
      apiAfter.value("auditlog_ingest_requests_refused_total", { reason: "validation_failed" }),
    ).toBe(
      (apiBefore.value("auditlog_ingest_requests_refused_total", { reason: "validation_failed" }) ??
        0) + 1,
    );
    expect(
      apiAfter.value("auditlog_ingest_requests_refused_total", { reason: "unauthorized" }),
    ).toBe(
      (apiBefore.value("auditlog_ingest_requests_refused_total", { reason: "unauthorized" }) ?? 0) +
        1,
    );
    expect(
      apiAfter.value("auditlog_ingest_events_refused_total", { reason: "validation_failed" }),
    ).toBe(
      (apiBefore.value("auditlog_ingest_events_refused_total", { reason: "validation_failed" }) ??
        0) + 2,
    );
    // Latency: one histogram observation per answer, under the route's pattern.
    expect(apiAfter.type("auditlog_http_request_duration_seconds")).toBe("HISTOGRAM");
    expect(
      (apiAfter.count("auditlog_http_request_duration_seconds", { route: "/v1/events" }) ?? 0) -
        (apiBefore.count("auditlog_http_request_duration_seconds", { route: "/v1/events" }) ?? 0),
    ).toBe(sizes.length + 2);

    const workerAfter = await waitFor(
      () => scrapeWorker(),
      (m) => committed(m) - committed(workerBefore) >= sent,
    );
    expect(committed(workerAfter) - committed(workerBefore)).toBe(sent);
    const ingestJobs = (m: typeof apiBefore) =>
      m.count("auditlog_job_duration_seconds", { queue: "ingest", outcome: "completed" }) ?? 0;
    expect(ingestJobs(workerAfter) - ingestJobs(workerBefore)).toBe(sizes.length);
  });

  it("counts dead letters: a malformed job's events are kept aside", async () => {
    const { org } = await createOrgWithKey("team", "metrics-dead");
    const before = await scrapeWorker();
    const dead = (m: typeof before) => m.value("auditlog_events_dead_lettered_total") ?? 0;
    await stack.services.ingestQueue.add("ingest.batch", { orgId: org.id, events: "not a list" });
    const failedJobs = (m: typeof before) =>
      m.count("auditlog_job_duration_seconds", { queue: "ingest", outcome: "failed" }) ?? 0;
    // The dead letter is stored before the job fails: wait for both.
    const after = await waitFor(
      () => scrapeWorker(),
      (m) => dead(m) > dead(before) && failedJobs(m) > failedJobs(before),
    );
    expect(dead(after) - dead(before)).toBe(1);
    expect(
      (after.count("auditlog_job_duration_seconds", { queue: "ingest", outcome: "failed" }) ?? 0) -
        (before.count("auditlog_job_duration_seconds", { queue: "ingest", outcome: "failed" }) ??
          0),
    ).toBe(1);
  });

  it("times exports and counts their rows and bytes", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "metrics-export");
    const admin = await createMemberWithToken(org.slug, "admin");
    const events = Array.from({ length: 12 }, (_, i) => sampleEvent(i));
    expect((await post(stack.app, apiKey, { events })).status).toBe(202);
    await waitFor(
      () => countEntries(org.id),
      (n) => n === 12,
    );
    const before = await scrapeWorker();
    const response = await stack.app.request(`/v1/orgs/${org.slug}/exports`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ format: "ndjson" }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const done = await waitFor(
      () => getExportById(db, id),
      (record) => record?.status === "ready" || record?.status === "failed",
      60_000,
    );
    expect(done?.status).toBe("ready");
    const after = await scrapeWorker();
    const delta = (name: string) => (after.value(name) ?? 0) - (before.value(name) ?? 0);
    expect(delta("auditlog_export_rows_total")).toBe(12);
    expect(delta("auditlog_export_bytes_total")).toBe(done?.fileSize);
    expect(
      (after.count("auditlog_export_build_duration_seconds", { outcome: "ready" }) ?? 0) -
        (before.count("auditlog_export_build_duration_seconds", { outcome: "ready" }) ?? 0),
    ).toBe(1);
  });

  it("reads queue depth and age, checkpoint lag and stream lag when scraped", async () => {
    const m = await scrapeWorker();
    expect(m.labelValues("auditlog_queue_jobs", "queue")).toEqual([
      "exports",
      "ingest",
      "lifecycle",
      "notifications",
    ]);
    expect(m.labelValues("auditlog_queue_oldest_waiting_job_age_seconds", "queue")).toHaveLength(4);
    for (const name of [
      "auditlog_checkpoint_lag_entries",
      "auditlog_checkpoint_lag_organizations",
      "auditlog_stream_lag_entries",
      "auditlog_streams",
    ]) {
      expect(m.type(name), name).toBe("GAUGE");
      expect(m.value(name), name).toBeGreaterThanOrEqual(0);
    }
    // This stack signs no checkpoints: the events ingested above are not covered yet.
    expect(m.value("auditlog_checkpoint_lag_entries")).toBeGreaterThan(0);
    // The process's own figures come with every scrape.
    expect(m.value("process_cpu_user_seconds_total")).toBeGreaterThan(0);
  });

  it("shows how many jobs wait in a queue and how old the oldest is", async () => {
    // This worker has no lifecycle role: a job added to its lifecycle queue waits.
    const queue = new Queue(lifecycleQueue, { connection: stack.services.redis });
    try {
      await queue.add("lifecycle.run", {}, { timestamp: Date.now() - 90_000 });
      await queue.add("lifecycle.run", {});
      const m = await scrapeWorker();
      expect(m.value("auditlog_queue_jobs", { queue: "lifecycle", state: "waiting" })).toBe(2);
      expect(
        m.value("auditlog_queue_oldest_waiting_job_age_seconds", { queue: "lifecycle" }),
      ).toBeGreaterThanOrEqual(90);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
    }
  });
});

describe("who may read /metrics", () => {
  const stacks: Stack[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.services.close();
  });
  async function answer(env: Record<string, string>, headers: Record<string, string> = {}) {
    const stack = await startTestApi(env);
    stacks.push(stack);
    return (await stack.app.request("/metrics", { headers })).status;
  }

  it("is nobody by default: 404, as a route that does not exist", async () => {
    expect(await answer({}, bearer)).toBe(404);
  });
  it("refuses a scrape without the token, or with another, 401", async () => {
    expect(await answer({ METRICS_TOKEN: token })).toBe(401);
    expect(await answer({ METRICS_TOKEN: token }, { authorization: `Bearer ${token}-not` })).toBe(
      401,
    );
  });
  it("refuses a scrape from outside the address ranges, 403", async () => {
    // In-process requests have no peer address: never inside a range.
    expect(await answer({ METRICS_ALLOW_CIDRS: "127.0.0.0/8" }, bearer)).toBe(403);
  });
  it("refuses the worker's scrape without the token, and from outside its ranges", async () => {
    const stack = await startTestApi();
    stacks.push(stack);
    const worker = await startTestWorker(stack, {
      METRICS_TOKEN: token,
      METRICS_ALLOW_CIDRS: "10.0.0.0/8",
      WORKER_METRICS_PORT: "0",
      WORKER_ROLES: "exports",
    });
    try {
      const url = worker.metricsUrl as string;
      expect((await fetch(url)).status).toBe(403);
      expect((await fetch(url, { headers: bearer })).status).toBe(403);
      expect((await fetch(url.replace("/metrics", "/other"), { headers: bearer })).status).toBe(
        404,
      );
    } finally {
      await worker.stop();
    }
    const open = await startTestWorker(stack, {
      METRICS_TOKEN: token,
      METRICS_ALLOW_CIDRS: "127.0.0.0/8,::1",
      WORKER_METRICS_PORT: "0",
      WORKER_ROLES: "exports",
    });
    try {
      const url = open.metricsUrl as string;
      expect((await fetch(url)).status).toBe(401);
      expect((await fetch(url, { headers: bearer })).status).toBe(200);
    } finally {
      await open.stop();
    }
  });
});
