import { newId } from "@auditlog/events";
import { jobOptions } from "@auditlog/events/jobs";
import { createLogger } from "@auditlog/observability";
import { createRedisConnection } from "@auditlog/redis";
import { createExportNotifier, type FinishedExport } from "@auditlog/worker";
import { type Job, Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
} from "./support/test-stack.ts";

/** The options BullMQ stored for a job, in the catalog's terms. */
function policyOf(job: Job | undefined) {
  const { attempts, backoff, removeOnComplete, removeOnFail, jobId } = job?.opts ?? {};
  return JSON.parse(
    JSON.stringify({ attempts, backoff, removeOnComplete, removeOnFail, jobId }),
  ) as Record<string, unknown>;
}

/**
 * Every producer of the product adds its jobs with the options of the job catalog
 * (packages/events/src/jobs/job-catalog.ts): retry and clean-up policy live in one place.
 */
describe("every job is added with the job catalog's policy", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  const closers: (() => Promise<unknown>)[] = [];

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    for (const close of closers.reverse()) await close().catch(() => {});
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.exportQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it("ingest.batch, added by POST /v1/events", async () => {
    const { apiKey } = await createOrgWithKey("team", "policy-ingest");
    const response = await post(stack.app, apiKey, sampleEvent(1));
    expect(response.status).toBe(202);
    const [job] = await stack.services.ingestQueue.getJobs(["wait"]);
    expect(job?.name).toBe("ingest.batch");
    expect(policyOf(job)).toEqual(jobOptions("ingest", "ingest.batch"));
  });

  it("export.build, added by POST /v1/orgs/:org/exports", async () => {
    const { org } = await createOrgWithKey("team", "policy-export");
    const { token } = await createMemberWithToken(org.slug, "admin");
    const response = await stack.app.request(`/v1/orgs/${org.slug}/exports`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ format: "ndjson" }),
    });
    expect(response.status).toBe(202);
    const { id } = (await response.json()) as { id: string };
    const job = await stack.services.exportQueue.getJob(id);
    expect(job?.name).toBe("export.build");
    expect(policyOf(job)).toEqual(jobOptions("exports", "export.build", { jobId: id }));
  });

  it("notify.email and notify.webhook, added by the export notifier, with the configured delay", async () => {
    const { org } = await createOrgWithKey("team", "policy-notify");
    const { user, token } = await createMemberWithToken(org.slug, "admin");
    const put = await stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ url: "https://hooks.example.test/auditlog" }),
    });
    expect(put.status).toBe(200);
    const queue = new Queue(`test-notify-${newId("evt").slice(-12)}`, {
      connection: createRedisConnection(stack.env, "worker"),
    });
    closers.push(() => queue.obliterate({ force: true }).then(() => queue.close()));
    const notify = createExportNotifier({
      db: stack.services.db,
      publisher: stack.services.redis,
      queue,
      emailEnabled: true,
      retryBaseMs: 1_234,
      logger: createLogger("test", "error"),
    });
    const finished: FinishedExport = {
      id: newId("exp"),
      orgId: org.id,
      requestedBy: user.id,
      format: "json",
      status: "ready",
      rowsWritten: 1,
      fileSize: 10,
      error: null,
      query: "",
    };
    await notify(finished);
    const jobs = await queue.getJobs(["wait"]);
    const email = jobs.find((job) => job.name === "notify.email");
    const webhook = jobs.find((job) => job.name === "notify.webhook");
    expect(policyOf(email)).toEqual(
      jobOptions("notifications", "notify.email", { jobId: email?.id, backoffDelayMs: 1_234 }),
    );
    expect(policyOf(webhook)).toEqual(
      jobOptions("notifications", "notify.webhook", { jobId: webhook?.id, backoffDelayMs: 1_234 }),
    );
  });

  it("export.expire, scheduled by an export worker", async () => {
    const worker = await startTestWorker(stack, {
      WORKER_ROLES: "exports",
      EXPORT_EXPIRY_INTERVAL_MS: "3600000",
    });
    closers.push(() => worker.stop());
    const scheduler = await stack.services.exportQueue.getJobScheduler("export.expire");
    expect(scheduler?.every).toBe(3_600_000);
    expect(JSON.parse(JSON.stringify(scheduler?.template?.opts))).toEqual(
      jobOptions("exports", "export.expire"),
    );
  });
});
