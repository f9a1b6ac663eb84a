import type { Readable, Writable } from "node:stream";

/**
 * Where finished export files live, behind an interface small enough for an object store.
 *
 * `local` (EXPORT_STORAGE=local): one directory on a disk the API and the worker share.
 * `s3` (EXPORT_STORAGE=s3): a bucket of any S3-compatible store; `createWriteStream` is a
 * multipart upload (the object is invisible until CompleteMultipartUpload, which is the atomic
 * `commit`), `openRead` GetObject, `stat` HeadObject, `delete` DeleteObject. Both pass the same
 * contract tests (`export-storage.test.ts`).
 */
export interface ExportUpload {
  /** Where the (already compressed) bytes go; honour its backpressure. */
  readonly stream: Writable;
  /**
   * After the stream has finished: makes the file durable and visible under its key in one step
   * (fsync then atomic rename; CompleteMultipartUpload), and answers its size. A file is never
   * visible half-written, whatever happens to the writing process.
   */
  commit(): Promise<{ size: number }>;
  /** Discards the partial file. Safe after a failure and more than once. */
  abort(): Promise<void>;
}

export interface ExportStorage {
  readonly kind: ExportStorageKind;
  /** For logs: where files go. */
  readonly location: string;
  /** Starts the file over under `<key>.partial` (truncating any earlier partial). */
  createWriteStream(key: string): Promise<ExportUpload>;
  /** The committed file, or null when there is none. */
  openRead(key: string): Promise<Readable | null>;
  stat(key: string): Promise<{ size: number } | null>;
  /**
   * Removes the committed file (and, locally, any partial of it); no error when neither exists.
   * An S3 multipart upload left by a killed writer is invisible and is reclaimed by the bucket's
   * AbortIncompleteMultipartUpload lifecycle rule (DEPLOYMENT.md, "Export storage").
   */
  delete(key: string): Promise<void>;
  /**
   * A short-lived URL the client downloads the committed file from directly (an S3 presigned
   * GET naming `fileName` as the attachment), valid at most until `notAfter`; null when this
   * storage serves files through the API only (local; S3 without EXPORT_S3_PRESIGN_SECONDS).
   */
  downloadUrl(key: string, options: { fileName: string; notAfter?: Date }): Promise<string | null>;
}

export const exportStorageKinds = ["local", "s3"] as const;
export type ExportStorageKind = (typeof exportStorageKinds)[number];

export interface LocalExportStorageConfig {
  kind: "local";
  /**
   * Local storage's directory; defaults to `<repo root>/.data/exports`. A relative path is taken
   * from the repo root, not the working directory, so the API and the worker agree.
   */
  dir?: string | undefined;
}

export interface S3ExportStorageConfig {
  kind: "s3";
  bucket: string;
  region: string;
  /** Empty: AWS S3 itself (`https://s3.<region>.amazonaws.com`). */
  endpoint?: string | undefined;
  /** `<endpoint>/<bucket>/<key>` instead of `<bucket>.<endpoint>/<key>` (MinIO, Ceph, s3rver…). */
  forcePathStyle?: boolean | undefined;
  /** Both or neither; neither: the SDK's default chain (AWS_* variables, instance role…). */
  credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Every key is stored under `<prefix>/` (no slashes at either end). */
  prefix?: string | undefined;
  /** Bytes per uploaded part (S3's minimum is 5 MiB, except the last part). */
  partSize?: number | undefined;
  /** Downloads redirect to a presigned GET valid this long; 0: streamed through the API. */
  presignSeconds?: number | undefined;
  /** The endpoint presigned URLs name, when clients reach the store by another address. */
  publicEndpoint?: string | undefined;
}

export type ExportStorageConfig = LocalExportStorageConfig | S3ExportStorageConfig;

/** Keys are relative slash-separated names of safe characters: never `..`, never absolute. */
const keyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function assertValidExportKey(key: string): void {
  if (!keyPattern.test(key) || key.length > 500 || key.endsWith(".partial")) {
    throw new Error(`invalid export storage key "${key}"`);
  }
}
