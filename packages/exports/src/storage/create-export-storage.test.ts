import { describe, expect, it } from "vitest";
import { z } from "zod";
import {
  exportStorageConfigFromEnv,
  exportStorageEnv,
  exportStorageEnvIssues,
  exportStorageFromEnv,
} from "./create-export-storage.ts";

const schema = z.object(exportStorageEnv);

describe("export storage settings", () => {
  it("defaults to the local directory", () => {
    const env = schema.parse({});
    expect(exportStorageEnvIssues(env)).toEqual([]);
    expect(exportStorageConfigFromEnv(env)).toEqual({ kind: "local", dir: "" });
  });

  it("reads every S3 setting", () => {
    const env = schema.parse({
      EXPORT_STORAGE: "s3",
      EXPORT_S3_BUCKET: "exports",
      EXPORT_S3_REGION: "eu-west-1",
      EXPORT_S3_ENDPOINT: "http://127.0.0.1:9000",
      EXPORT_S3_FORCE_PATH_STYLE: "true",
      EXPORT_S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
      EXPORT_S3_SECRET_ACCESS_KEY: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      EXPORT_S3_PREFIX: "prod/exports",
      EXPORT_S3_PART_SIZE_MIB: "16",
      EXPORT_S3_PRESIGN_SECONDS: "60",
      EXPORT_S3_PUBLIC_ENDPOINT: "https://files.example.com",
    });
    expect(exportStorageConfigFromEnv(env)).toEqual({
      kind: "s3",
      bucket: "exports",
      region: "eu-west-1",
      endpoint: "http://127.0.0.1:9000",
      forcePathStyle: true,
      credentials: {
        accessKeyId: "AKIDEXAMPLE",
        secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY",
      },
      prefix: "prod/exports",
      partSize: 16 * 1024 * 1024,
      presignSeconds: 60,
      publicEndpoint: "https://files.example.com",
    });
    const storage = exportStorageFromEnv(env);
    expect(storage.kind).toBe("s3");
    // Logged at start-up: where files go, never the keys.
    expect(storage.location).toBe("s3://exports/prod/exports at http://127.0.0.1:9000");
  });

  it("names each missing or invalid S3 setting", () => {
    expect(exportStorageEnvIssues(schema.parse({ EXPORT_STORAGE: "s3" }))).toEqual([
      { path: ["EXPORT_S3_BUCKET"], message: "must be set when EXPORT_STORAGE=s3" },
    ]);
    const halfKey = schema.parse({
      EXPORT_STORAGE: "s3",
      EXPORT_S3_BUCKET: "b",
      EXPORT_S3_ACCESS_KEY_ID: "AKIDEXAMPLE",
    });
    expect(exportStorageEnvIssues(halfKey).map((i) => i.path[0])).toEqual([
      "EXPORT_S3_SECRET_ACCESS_KEY",
    ]);
    expect(() => exportStorageConfigFromEnv(halfKey)).toThrow(/EXPORT_S3_SECRET_ACCESS_KEY/);
    for (const [name, value] of [
      ["EXPORT_S3_PART_SIZE_MIB", "4"],
      ["EXPORT_S3_PRESIGN_SECONDS", "-1"],
      ["EXPORT_S3_ENDPOINT", "ftp://store"],
      ["EXPORT_S3_PREFIX", "/leading"],
      ["EXPORT_STORAGE", "gcs"],
    ]) {
      const parsed = schema.safeParse({ [name as string]: value });
      expect(parsed.success).toBe(false);
      expect(parsed.error?.issues[0]?.path).toEqual([name]);
    }
  });
});
