import { type FileHandle, mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable, Writable } from "node:stream";
import { fileURLToPath } from "node:url";

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

/**
 * `<repo root>/.data/exports`, computed from this module's location so that the API and the
 * worker agree whatever their working directory (`.data/` is git-ignored).
 */
const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
export const defaultExportStorageDir = path.join(repoRoot, ".data", "exports");

export function createExportStorage(config: ExportStorageConfig): ExportStorage {
  switch (config.kind) {
    case "local":
      return new LocalExportStorage(config.dir || defaultExportStorageDir);
  }
}

/** Keys are relative slash-separated names of safe characters: never `..`, never absolute. */
const keyPattern = /^[A-Za-z0-9][A-Za-z0-9._-]*(\/[A-Za-z0-9][A-Za-z0-9._-]*)*$/;

export function assertValidExportKey(key: string): void {
  if (!keyPattern.test(key) || key.length > 500 || key.endsWith(".partial")) {
    throw new Error(`invalid export storage key "${key}"`);
  }
}

const isMissing = (error: unknown) => (error as { code?: string })?.code === "ENOENT";

class LocalExportStorage implements ExportStorage {
  readonly kind = "local" as const;
  readonly location: string;

  constructor(dir: string) {
    this.location = path.resolve(repoRoot, dir);
  }

  private resolve(key: string): string {
    assertValidExportKey(key);
    const full = path.resolve(this.location, key);
    if (!full.startsWith(this.location + path.sep)) {
      throw new Error(`invalid export storage key "${key}"`);
    }
    return full;
  }

  async createWriteStream(key: string): Promise<ExportUpload> {
    const finalPath = this.resolve(key);
    const partialPath = `${finalPath}.partial`;
    await mkdir(path.dirname(finalPath), { recursive: true });
    // "w" truncates: a retried build starts the file over, never appends to a leftover.
    const handle: FileHandle = await open(partialPath, "w");
    const stream = handle.createWriteStream({ autoClose: false });
    let closed = false;
    const close = async () => {
      if (closed) return;
      closed = true;
      // The stream holds a reference on the handle, and handle.close() waits for every
      // reference: it would never settle while the stream is open. Destroying the stream
      // releases its reference and closes the handle.
      if (!stream.closed) {
        await new Promise<void>((resolve) => {
          stream.once("close", () => resolve());
          stream.destroy();
        });
      }
      await handle.close();
    };
    return {
      stream,
      async commit() {
        if (!stream.writableFinished) throw new Error("commit before the stream finished");
        await handle.sync();
        await close();
        await rename(partialPath, finalPath);
        await syncDirectory(path.dirname(finalPath));
        return { size: (await stat(finalPath)).size };
      },
      async abort() {
        stream.destroy();
        await close().catch(() => {});
        await rm(partialPath, { force: true });
      },
    };
  }

  async openRead(key: string): Promise<Readable | null> {
    let handle: FileHandle;
    try {
      handle = await open(this.resolve(key), "r");
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
    return handle.createReadStream();
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      return { size: (await stat(this.resolve(key))).size };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    const full = this.resolve(key);
    await rm(full, { force: true });
    await rm(`${full}.partial`, { force: true });
  }
}

/** Makes a rename durable: the directory entry itself must reach the disk. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: FileHandle | undefined;
  try {
    handle = await open(dir, "r");
    await handle.sync();
  } catch {
    // Some filesystems refuse fsync on a directory; the data itself is already synced.
  } finally {
    await handle?.close().catch(() => {});
  }
}
