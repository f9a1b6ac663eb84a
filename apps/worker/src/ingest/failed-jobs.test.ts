import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { type Job, Queue } from "bullmq";
import { Redis } from "ioredis";
import { afterAll, describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../env.ts";
import { startWorker } from "../start-worker.ts";

const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";

function event(ip: string) {
  return {
    id: newId("evt"),
    type: "repo.create",
    occurredAt: new Date().toISOString(),
    actor: { type: "user", id: "usr_1", name: "alice" },
    data: { repo: { type: "model", name: "acme/bert" } },
    context: { ip, userAgent: "test" },
  };
}

async function failedForGood(queue: Queue, id: string): Promise<Job> {
  const deadline = Date.now() + 20_000;
  for (;;) {
    // State first, then the job: "failed" is final, so a job read after it is the failed one
    // (read before, it can be the active attempt, with its attempt count not yet raised).
    if ((await queue.getJobState(id)) === "failed") {
      const job = await queue.getJob(id);
      if (job) return job;
    }
    if (Date.now() > deadline) throw new Error(`job ${id} did not fail within 20 s`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

describe("an ingest job that failed for good keeps no full client address in Redis", () => {
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queues: Queue[] = [];
  afterAll(async () => {
    for (const queue of queues) {
      await queue.obliterate({ force: true }).catch(() => {});
      await queue.close();
    }
    connection.disconnect();
  });

  async function workerOn(databaseUrl: string) {
    const name = `failed-ip-${newId("evt").slice(-10)}`;
    const queue = new Queue(name, { connection });
    queues.push(queue);
    const worker = await startWorker(
      loadWorkerEnv({
        ...process.env,
        DATABASE_URL: databaseUrl,
        REDIS_URL: redisUrl,
        WORKER_ROLES: "ingest",
        INGEST_QUEUE: name,
        GEOIP_IPV4_DATABASE: "",
        GEOIP_IPV6_DATABASE: "",
        LOG_LEVEL: "error",
      }),
    );
    return { queue, worker };
  }

  it("truncates each event's context.ip once the last attempt has failed", async () => {
    // Nothing listens on port 1: every attempt fails as an outage would.
    const { queue, worker } = await workerOn("postgres://postgres@127.0.0.1:1/unreachable");
    try {
      const added = await queue.add(
        "ingest.batch",
        {
          orgId: "org_failed_ip",
          receivedAt: new Date().toISOString(),
          events: [event("203.0.113.77"), event("2001:db8:1234:5678::9")],
        },
        { attempts: 2, backoff: { type: "fixed", delay: 100 } },
      );
      const job = await failedForGood(queue, String(added.id));
      expect(job.attemptsMade).toBe(2);
      const ips = (job.data.events as { context: { ip: string } }[]).map((e) => e.context.ip);
      expect(ips).toEqual(["203.0.113.0", "2001:db8:1234::"]);
      expect(JSON.stringify(job.data)).not.toContain("203.0.113.77");

      // A job that will be tried again keeps the full address: the worker geolocates from it.
      const retrying = await queue.add(
        "ingest.batch",
        {
          orgId: "org_failed_ip",
          receivedAt: new Date().toISOString(),
          events: [event("192.0.2.55")],
        },
        { attempts: 3, backoff: { type: "fixed", delay: 60_000 } },
      );
      const delayed = await (async () => {
        for (const deadline = Date.now() + 20_000; Date.now() < deadline; ) {
          const found = await queue.getJob(String(retrying.id));
          if (found && (await found.getState()) === "delayed") return found;
          await new Promise((resolve) => setTimeout(resolve, 100));
        }
        throw new Error("the job was not retried");
      })();
      expect((delayed.data.events as { context: { ip: string } }[])[0]?.context.ip).toBe(
        "192.0.2.55",
      );
    } finally {
      await worker.stop();
    }
  });

  it("truncates it when the job can never succeed (a malformed payload)", async () => {
    const { queue, worker } = await workerOn(testDatabaseUrl);
    try {
      const added = await queue.add(
        "ingest.batch",
        { orgId: "", receivedAt: "yesterday", events: [event("198.51.100.23")] },
        { attempts: 20 },
      );
      const job = await failedForGood(queue, String(added.id));
      expect(job.attemptsMade).toBe(1);
      expect((job.data.events as { context: { ip: string } }[])[0]?.context.ip).toBe(
        "198.51.100.0",
      );
    } finally {
      await worker.stop();
    }
  });
});
