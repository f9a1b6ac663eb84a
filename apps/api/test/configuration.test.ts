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

  it("requires the bucket and both halves of a key pair with EXPORT_STORAGE=s3, in both apps", () => {
    for (const load of [loadApiEnv, loadWorkerEnv]) {
      expect(() => load({ EXPORT_STORAGE: "s3" })).toThrow(
        /EXPORT_S3_BUCKET: must be set when EXPORT_STORAGE=s3/,
      );
      expect(() =>
        load({ EXPORT_STORAGE: "s3", EXPORT_S3_BUCKET: "b", EXPORT_S3_ACCESS_KEY_ID: "AKID" }),
      ).toThrow(/EXPORT_S3_SECRET_ACCESS_KEY: must be set with its pair/);
      const env = load({
        EXPORT_STORAGE: "s3",
        EXPORT_S3_BUCKET: "exports",
        EXPORT_S3_PRESIGN_SECONDS: "60",
      });
      expect(env).toMatchObject({ EXPORT_STORAGE: "s3", EXPORT_S3_PRESIGN_SECONDS: 60 });
    }
  });
});

describe("the API's limits on slow clients", () => {
  it("defaults to 10 s for headers, 30 s for the whole request, 5 s of keep-alive", () => {
    const env = loadApiEnv({});
    expect(env.HEADERS_TIMEOUT_MS).toBe(10_000);
    expect(env.REQUEST_TIMEOUT_MS).toBe(30_000);
    expect(env.KEEP_ALIVE_TIMEOUT_MS).toBe(5_000);
  });

  it("refuses a request limit shorter than the header limit or than a held ingest request's wait", () => {
    expect(() => loadApiEnv({ HEADERS_TIMEOUT_MS: "20000", REQUEST_TIMEOUT_MS: "10000" })).toThrow(
      /REQUEST_TIMEOUT_MS: must be at least HEADERS_TIMEOUT_MS/,
    );
    expect(() =>
      loadApiEnv({ INGEST_ADMISSION_WAIT_MS: "30000", REQUEST_TIMEOUT_MS: "30000" }),
    ).toThrow(/REQUEST_TIMEOUT_MS: must be greater than INGEST_ADMISSION_WAIT_MS/);
  });
});
