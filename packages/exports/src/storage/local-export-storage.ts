import { type FileHandle, mkdir, open, rename, rm, stat } from "node:fs/promises";
import path from "node:path";
import type { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import { assertValidExportKey, type ExportStorage, type ExportUpload } from "./export-storage.ts";

/**
 * `<repo root>/.data/exports`, computed from this module's location so that the API and the
 * worker agree whatever their working directory (`.data/` is git-ignored).
 */
const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
export const defaultExportStorageDir = path.join(repoRoot, ".data", "exports");

const isMissing = (error: unknown) => (error as { code?: string })?.code === "ENOENT";

/** One directory on a disk every API and worker process shares. */
export class LocalExportStorage implements ExportStorage {
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

  /** Files on a local disk are served by the API only. */
  async downloadUrl(): Promise<string | null> {
    return null;
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
