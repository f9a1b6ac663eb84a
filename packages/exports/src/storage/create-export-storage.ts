import { z } from "zod";
import {
  type ExportStorage,
  type ExportStorageConfig,
  exportStorageKinds,
} from "./export-storage.ts";
import { defaultExportStorageDir, LocalExportStorage } from "./local-export-storage.ts";
import { S3ExportStorage } from "./s3-export-storage.ts";

export function createExportStorage(config: ExportStorageConfig): ExportStorage {
  switch (config.kind) {
    case "local":
      return new LocalExportStorage(config.dir || defaultExportStorageDir);
    case "s3":
      return new S3ExportStorage(config);
  }
}

const flag = z
  .enum(["true", "false", "1", "0"])
  .default("false")
  .transform((value) => value === "true" || value === "1");

/** The settings every process that reads or writes export files needs (API and worker alike). */
export const exportStorageEnv = {
  /** Where export files live: `local` (a directory every process shares) or `s3` (a bucket). */
  EXPORT_STORAGE: z.enum(exportStorageKinds).default("local"),
  /** Local storage's directory; empty means `<repo root>/.data/exports`. */
  EXPORT_STORAGE_DIR: z.string().default(""),
  /** S3: the bucket (required with EXPORT_STORAGE=s3). */
  EXPORT_S3_BUCKET: z.string().default(""),
  EXPORT_S3_REGION: z.string().min(1).default("us-east-1"),
  /** S3: the store's URL (`https://minio.internal:9000`); empty: AWS S3 in EXPORT_S3_REGION. */
  EXPORT_S3_ENDPOINT: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
  /** S3: `<endpoint>/<bucket>/<key>` addressing (MinIO, Ceph and most self-hosted stores). */
  EXPORT_S3_FORCE_PATH_STYLE: flag,
  /** S3: both or neither; neither uses the SDK's default chain (AWS_* variables, a role). */
  EXPORT_S3_ACCESS_KEY_ID: z.string().default(""),
  EXPORT_S3_SECRET_ACCESS_KEY: z.string().default(""),
  /** S3: keys are stored under `<prefix>/`, so one bucket can hold several deployments. */
  EXPORT_S3_PREFIX: z
    .string()
    .regex(/^([A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*)?$/, {
      message: "must be slash-separated names of letters, digits, '.', '_' and '-'",
    })
    .default(""),
  /** S3: MiB per uploaded part (S3's minimum is 5; doubled every 1,000 parts). */
  EXPORT_S3_PART_SIZE_MIB: z.coerce.number().int().min(5).max(1024).default(8),
  /**
   * S3: downloads answer 302 to a presigned GET valid this many seconds (the download is still
   * checked and recorded by the API first); 0 streams every file through the API.
   */
  EXPORT_S3_PRESIGN_SECONDS: z.coerce.number().int().min(0).max(3600).default(0),
  /** S3: the endpoint presigned URLs name, when clients reach the store by another address. */
  EXPORT_S3_PUBLIC_ENDPOINT: z.union([z.literal(""), z.url({ protocol: /^https?$/ })]).default(""),
};

type ExportStorageEnv = z.output<z.ZodObject<typeof exportStorageEnv>>;

/**
 * What a parsed environment lacks for its storage, each naming its variable (for the apps'
 * superRefine: the settings depend on EXPORT_STORAGE, which no single field sees).
 */
export function exportStorageEnvIssues(
  env: ExportStorageEnv,
): { path: [string]; message: string }[] {
  if (env.EXPORT_STORAGE !== "s3") return [];
  const issues: { path: [string]; message: string }[] = [];
  if (!env.EXPORT_S3_BUCKET) {
    issues.push({ path: ["EXPORT_S3_BUCKET"], message: "must be set when EXPORT_STORAGE=s3" });
  }
  if (Boolean(env.EXPORT_S3_ACCESS_KEY_ID) !== Boolean(env.EXPORT_S3_SECRET_ACCESS_KEY)) {
    const missing = env.EXPORT_S3_ACCESS_KEY_ID
      ? "EXPORT_S3_SECRET_ACCESS_KEY"
      : "EXPORT_S3_ACCESS_KEY_ID";
    issues.push({
      path: [missing],
      message:
        "must be set with its pair (EXPORT_S3_ACCESS_KEY_ID and EXPORT_S3_SECRET_ACCESS_KEY), or both left empty",
    });
  }
  return issues;
}

export function exportStorageConfigFromEnv(env: ExportStorageEnv): ExportStorageConfig {
  const issues = exportStorageEnvIssues(env);
  if (issues.length > 0) {
    throw new Error(
      `invalid export storage configuration: ${issues.map((i) => `${i.path[0]}: ${i.message}`).join("; ")}`,
    );
  }
  if (env.EXPORT_STORAGE === "local") return { kind: "local", dir: env.EXPORT_STORAGE_DIR };
  return {
    kind: "s3",
    bucket: env.EXPORT_S3_BUCKET,
    region: env.EXPORT_S3_REGION,
    endpoint: env.EXPORT_S3_ENDPOINT,
    forcePathStyle: env.EXPORT_S3_FORCE_PATH_STYLE,
    credentials: env.EXPORT_S3_ACCESS_KEY_ID
      ? {
          accessKeyId: env.EXPORT_S3_ACCESS_KEY_ID,
          secretAccessKey: env.EXPORT_S3_SECRET_ACCESS_KEY,
        }
      : undefined,
    prefix: env.EXPORT_S3_PREFIX,
    partSize: env.EXPORT_S3_PART_SIZE_MIB * 1024 * 1024,
    presignSeconds: env.EXPORT_S3_PRESIGN_SECONDS,
    publicEndpoint: env.EXPORT_S3_PUBLIC_ENDPOINT,
  };
}

export function exportStorageFromEnv(env: ExportStorageEnv): ExportStorage {
  return createExportStorage(exportStorageConfigFromEnv(env));
}
