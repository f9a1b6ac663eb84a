import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "./env.ts";
import { startWorker } from "./start-worker.ts";

describe("WORKER_ROLES", () => {
  it("parses a comma-separated list and names a bad role", () => {
    expect(loadWorkerEnv({ WORKER_ROLES: "exports, notifications" }).WORKER_ROLES).toEqual([
      "exports",
      "notifications",
    ]);
    expect(loadWorkerEnv({}).WORKER_ROLES).toEqual(["ingest", "exports", "notifications"]);
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
        LOG_LEVEL: "error",
      }),
    );
    // The geolocation databases are ~130 MB of Buffers; none were loaded.
    expect(process.memoryUsage().external - before).toBeLessThan(50 * 1024 * 1024);
    await worker.stop();
  });
});
