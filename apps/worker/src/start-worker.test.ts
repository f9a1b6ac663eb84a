import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "./env.ts";
import { startWorker } from "./start-worker.ts";

describe("WORKER_ROLES", () => {
  it("parses a comma-separated list and names a bad role", () => {
    expect(loadWorkerEnv({ WORKER_ROLES: "exports, notifications" }).WORKER_ROLES).toEqual([
      "exports",
      "notifications",
    ]);
    expect(loadWorkerEnv({}).WORKER_ROLES).toEqual([
      "ingest",
      "exports",
      "notifications",
      "checkpoints",
      "lifecycle",
      "alerts",
      "streams",
    ]);
    expect(() => loadWorkerEnv({ WORKER_ROLES: "exports,billing" })).toThrow(/WORKER_ROLES/);
  });

  it("an export-only worker starts and stops without the ingest consumer or its databases", async () => {
    const suffix = newId("evt").slice(-10);
    const before = process.memoryUsage().external;
    const worker = await startWorker(
      loadWorkerEnv({
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        WORKER_ROLES: "exports",
        INGEST_QUEUE: `roles-ingest-${suffix}`,
        EXPORT_QUEUE: `roles-exports-${suffix}`,
        NOTIFY_QUEUE: `roles-notify-${suffix}`,
        // Sweeping would expire other suites' exports in the shared test database.
        EXPORT_EXPIRY_INTERVAL_MS: "0",
        LOG_LEVEL: "error",
      }),
    );
    // The geolocation databases are ~130 MB of Buffers; none were loaded.
    expect(process.memoryUsage().external - before).toBeLessThan(50 * 1024 * 1024);
    const queue = new Queue(`roles-exports-${suffix}`, {
      connection: new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
        maxRetriesPerRequest: null,
      }),
    });
    try {
      // EXPORT_EXPIRY_INTERVAL_MS=0: this process schedules no sweep.
      expect(await queue.getJobSchedulers()).toEqual([]);
    } finally {
      await queue.obliterate({ force: true });
      await queue.close();
      await queue.disconnect();
    }
    await worker.stop();
  });
});

describe("EXPORT_EXPIRY_INTERVAL_MS", () => {
  it("is 0 (no sweep in this process) or at least a second", () => {
    expect(loadWorkerEnv({ EXPORT_EXPIRY_INTERVAL_MS: "0" }).EXPORT_EXPIRY_INTERVAL_MS).toBe(0);
    expect(loadWorkerEnv({}).EXPORT_EXPIRY_INTERVAL_MS).toBe(3_600_000);
    expect(() => loadWorkerEnv({ EXPORT_EXPIRY_INTERVAL_MS: "500" })).toThrow(
      /EXPORT_EXPIRY_INTERVAL_MS/,
    );
  });
});

describe("CHECKPOINT_INTERVAL_MS", () => {
  it("is 500 ms by default and at least 50", () => {
    expect(loadWorkerEnv({}).CHECKPOINT_INTERVAL_MS).toBe(500);
    expect(loadWorkerEnv({ CHECKPOINT_INTERVAL_MS: "50" }).CHECKPOINT_INTERVAL_MS).toBe(50);
    expect(() => loadWorkerEnv({ CHECKPOINT_INTERVAL_MS: "10" })).toThrow(/CHECKPOINT_INTERVAL_MS/);
  });
});
