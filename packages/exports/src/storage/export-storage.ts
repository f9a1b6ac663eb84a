import type { Readable, Writable } from "node:stream";

/**
 * Where finished export files live, behind an interface small enough for an object store.
 *
 * Only `local` exists today (EXPORT_STORAGE=local): one directory on a disk the API and the
 * worker share. An S3-compatible backend fits the same contract: `createWriteStream` as a
 * multipart upload (the object is invisible until CompleteMultipartUpload, which is the atomic
 * `commit`), `openRead` as GetObject, `stat` as HeadObject, `delete` as DeleteObject (plus
 * AbortMultipartUpload for a partial). It would be selected by EXPORT_STORAGE=s3 with its bucket
 * and endpoint settings, without changes to the API or the worker.
 */
export interface ExportUpload {
  /** Where the (already compressed) bytes go; honour its backpressure. */
  readonly stream: Writable;
  /**
   * After the stream has finished: makes the file durable and visible under its key in one step
   * (fsync, then atomic rename), and answers its size. A file is never visible half-written.
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
  /** Removes the committed file and any partial of it; no error when neither exists. */
  delete(key: string): Promise<void>;
}

export const exportStorageKinds = ["local"] as const;
export type ExportStorageKind = (typeof exportStorageKinds)[number];

export interface ExportStorageConfig {
  kind: ExportStorageKind;
  /**
   * Local storage's directory; defaults to `<repo root>/.data/exports`. A relative path is taken
   * from the repo root, not the working directory, so the API and the worker agree.
   */
  dir?: string | undefined;
}

/** Keys are relative slash-separated names of safe characters: never `..`, never absolute. */
const keyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function assertValidExportKey(key: string): void {
  if (!keyPattern.test(key) || key.length > 500 || key.endsWith(".partial")) {
    throw new Error(`invalid export storage key "${key}"`);
  }
}
