import { newId } from "@auditlog/events";
import { jobCatalog, producerFor } from "@auditlog/events/jobs";
import { createLogger } from "@auditlog/observability";
import { type Job, Queue, QueueEvents } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { type Consumer, startConsumer } from "./start-consumer.ts";

const logger = createLogger("test", "error");
const connection = new Redis("redis://127.0.0.1:6379", { maxRetriesPerRequest: null });
const opened: { close(): Promise<unknown> }[] = [];

afterAll(async () => {
  for (const item of opened.reverse()) await item.close().catch(() => {});
  connection.disconnect();
});

/** A queue of this test's own, its events, and a way to wait for a job to settle. */
async function ownQueue() {
  const queueName = `test-consumer-${newId("evt").slice(-12)}`;
  const queue = new Queue(queueName, { connection });
  const events = new QueueEvents(queueName, { connection: connection.duplicate() });
  await events.waitUntilReady();
  opened.push({ close: () => queue.obliterate({ force: true }).then(() => queue.close()) }, events);
  const settled = (jobId: string) =>
    new Promise<{ outcome: "completed" | "failed"; detail: string }>((resolve) => {
      events.on("completed", (e) => {
        if (e.jobId === jobId) resolve({ outcome: "completed", detail: String(e.returnvalue) });
      });
      events.on("failed", (e) => {
        if (e.jobId === jobId) resolve({ outcome: "failed", detail: e.failedReason });
      });
    });
  return { queueName, queue, settled };
}

describe("startConsumer", () => {
  it("runs with the queue's consumer policy from the job catalog", async () => {
    const { queueName } = await ownQueue();
    const consumer = await startConsumer({
      queue: "ingest",
      queueName,
      connection,
      concurrency: 3,
      lockDurationMs: 4_000,
      logger,
      handlers: { "ingest.batch": async () => "stored" },
    });
    opened.push(consumer);
    const { opts } = consumer.worker;
    expect(opts.maxStalledCount).toBe(jobCatalog.ingest.consumer.maxStalledCount);
    expect(opts.removeOnComplete).toEqual(jobCatalog.ingest.consumer.removeOnComplete);
    expect(opts.removeOnFail).toEqual(jobCatalog.ingest.consumer.removeOnFail);
    expect(opts.concurrency).toBe(3);
    expect(opts.lockDuration).toBe(4_000);
    expect(opts.stalledInterval).toBe(2_000);
  });

  it("hands each job's validated payload to the handler of its name", async () => {
    const { queueName, queue, settled } = await ownQueue();
    const seen: string[] = [];
    let consumer: Consumer | undefined;
    consumer = await startConsumer({
      queue: "notifications",
      queueName,
      connection,
      concurrency: 1,
      logger,
      handlers: {
        "notify.email": async (payload) => {
          seen.push(`email to ${payload.to}`);
          return "sent";
        },
        "notify.webhook": async (payload, job: Job) => {
          seen.push(`webhook ${payload.messageId} as job ${job.name}`);
          return "delivered";
        },
        "notify.slack": async (payload) => {
          seen.push(`slack ${payload.messageId}`);
          return "posted";
        },
      },
    });
    opened.push(consumer);
    const producer = producerFor(queue, "notifications");
    const email = settled("e1");
    await producer.add(
      "notify.email",
      { notificationId: "ntf_1", to: "a@example.test", subject: "s", text: "t" },
      { jobId: "e1" },
    );
    expect(await email).toEqual({ outcome: "completed", detail: "sent" });
    const webhook = settled("w1");
    await producer.add(
      "notify.webhook",
      {
        messageId: "msg_1",
        orgId: "org_1",
        payload: {
          type: "export.ready",
          timestamp: new Date().toISOString(),
          data: {
            exportId: "exp_1",
            org: "acme",
            format: "json",
            status: "ready",
            rowsWritten: 1,
            fileSize: 10,
            error: null,
          },
        },
      },
      { jobId: "w1" },
    );
    expect(await webhook).toEqual({ outcome: "completed", detail: "delivered" });
    expect(seen).toEqual(["email to a@example.test", "webhook msg_1 as job notify.webhook"]);
  });

  it("hands a well-formed ingest job's data on as it is, and still refuses every malformed one", async () => {
    const { queueName, queue, settled } = await ownQueue();
    const received: { jobId: string | undefined; same: boolean; events: number }[] = [];
    const malformed: { jobId: string | undefined; paths: string[] }[] = [];
    opened.push(
      await startConsumer({
        queue: "ingest",
        queueName,
        connection,
        concurrency: 1,
        logger,
        handlers: {
          "ingest.batch": async (payload, job) => {
            // The compiled check took it: the payload is the job's data itself, not zod's copy.
            received.push({
              jobId: job.id,
              same: payload === job.data,
              events: payload.events.length,
            });
            return "stored";
          },
        },
        onMalformed: async (job, issues) => {
          malformed.push({ jobId: job.id, paths: issues.map((i) => i.path) });
        },
      }),
    );
    const good = {
      orgId: "org_1",
      receivedAt: new Date().toISOString(),
      catalog: "0123456789abcdef",
      events: [{ type: "repo.create" }, { anything: true }],
    };
    const cases: [string, unknown][] = [
      ["good", good],
      ["good-no-catalog", { orgId: "org_1", receivedAt: good.receivedAt, events: [1] }],
      ["extra-key", { ...good, extra: 1 }],
      ["no-events", { ...good, events: [] }],
      ["bad-time", { ...good, receivedAt: "yesterday" }],
      ["too-many", { ...good, events: Array.from({ length: 1001 }, () => ({})) }],
    ];
    const outcomes: Record<string, string> = {};
    for (const [jobId, data] of cases) {
      const done = settled(jobId);
      await queue.add("ingest.batch", data, { jobId, attempts: 1 });
      outcomes[jobId] = (await done).outcome;
    }
    expect(outcomes).toEqual({
      good: "completed",
      "good-no-catalog": "completed",
      "extra-key": "failed",
      "no-events": "failed",
      "bad-time": "failed",
      "too-many": "failed",
    });
    expect(received).toEqual([
      { jobId: "good", same: true, events: 2 },
      { jobId: "good-no-catalog", same: true, events: 1 },
    ]);
    expect(malformed).toEqual([
      { jobId: "extra-key", paths: [""] },
      { jobId: "no-events", paths: ["events"] },
      { jobId: "bad-time", paths: ["receivedAt"] },
      { jobId: "too-many", paths: ["events"] },
    ]);
  });

  it("fails a malformed job at once, without retries, after keeping what it can", async () => {
    const { queueName, queue, settled } = await ownQueue();
    const kept: { jobId: string | undefined; paths: string[] }[] = [];
    let handled = 0;
    opened.push(
      await startConsumer({
        queue: "exports",
        queueName,
        connection,
        concurrency: 1,
        logger,
        handlers: {
          "export.build": async () => handled++,
          "export.expire": async () => handled++,
        },
        onMalformed: async (job, issues) => {
          kept.push({ jobId: job.id, paths: issues.map((i) => i.path) });
        },
      }),
    );
    const failed = settled("bad-1");
    // Five attempts allowed, as the catalog gives a build: a malformed one must use only one.
    await queue.add(
      "export.build",
      { exportId: "not-an-export-id" },
      {
        jobId: "bad-1",
        attempts: 5,
      },
    );
    const result = await failed;
    expect(result.outcome).toBe("failed");
    expect(result.detail).toContain("malformed export.build job: exportId");
    const job = await queue.getJob("bad-1");
    expect(job?.attemptsMade).toBe(1);
    expect(kept).toEqual([{ jobId: "bad-1", paths: ["exportId"] }]);
    expect(handled).toBe(0);
  });

  it("fails a job whose name the queue does not have, without retries", async () => {
    const { queueName, queue, settled } = await ownQueue();
    opened.push(
      await startConsumer({
        queue: "exports",
        queueName,
        connection,
        concurrency: 1,
        logger,
        handlers: { "export.build": async () => 1, "export.expire": async () => 1 },
      }),
    );
    const failed = settled("stray-1");
    await queue.add("notify.email", {}, { jobId: "stray-1", attempts: 3 });
    expect(await failed).toEqual({
      outcome: "failed",
      detail: 'unknown job name "notify.email" on exports',
    });
    expect((await queue.getJob("stray-1"))?.attemptsMade).toBe(1);
  });
});
