import { jobCatalog } from "@auditlog/events/jobs";
import { loadWorkerEnv } from "@auditlog/worker";
import { describe, expect, it } from "vitest";
import { loadApiEnv } from "../src/env.ts";

const shared = [
  "DATABASE_URL",
  "REDIS_URL",
  "INGEST_QUEUE",
  "EXPORT_QUEUE",
  "EXPORT_STORAGE",
  "EXPORT_STORAGE_DIR",
  "LOG_LEVEL",
] as const;

describe("configuration shared by the API and the worker", () => {
  it("has the same defaults in both, the queues' names from the job catalog", () => {
    const api = loadApiEnv({});
    const worker = loadWorkerEnv({});
    for (const key of shared) expect(api[key], key).toEqual(worker[key]);
    expect(api.INGEST_QUEUE).toBe(jobCatalog.ingest.defaultName);
    expect(api.EXPORT_QUEUE).toBe(jobCatalog.exports.defaultName);
    expect(worker.NOTIFY_QUEUE).toBe(jobCatalog.notifications.defaultName);
  });

  it("reads each shared setting the same way in both", () => {
    const source = {
      DATABASE_URL: "postgres://u@db.internal:6432/logs",
      REDIS_URL: "redis://queue.internal:6380",
      INGEST_QUEUE: "ingest-blue",
      EXPORT_QUEUE: "exports-blue",
      EXPORT_STORAGE: "local",
      EXPORT_STORAGE_DIR: "/srv/exports",
      LOG_LEVEL: "warn",
    };
    const api = loadApiEnv(source);
    const worker = loadWorkerEnv(source);
    for (const key of shared) {
      expect(api[key], key).toBe(source[key]);
      expect(worker[key], key).toBe(source[key]);
    }
  });

  it("names every bad setting of either app in one error", () => {
    const bad = { DATABASE_URL: "not a url", LOG_LEVEL: "loud", EXPORT_STORAGE: "ftp" };
    for (const load of [loadApiEnv, loadWorkerEnv]) {
      expect(() => load(bad)).toThrow(/configuration: /);
      const message = (() => {
        try {
          load(bad);
        } catch (error) {
          return (error as Error).message;
        }
      })();
      for (const key of Object.keys(bad)) expect(message).toContain(`${key}: `);
    }
  });
});
