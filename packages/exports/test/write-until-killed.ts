/**
 * A writer for the contract test's SIGKILL case, run as a process of its own: it opens an upload
 * under EXPORT_TEST_KEY in the storage EXPORT_TEST_STORAGE (an ExportStorageConfig as JSON),
 * writes EXPORT_TEST_BYTES_BEFORE bytes honouring backpressure (for S3 several parts, so at
 * least one is stored), prints "mid-upload", then keeps writing slowly until it is killed. It
 * never commits.
 */
import { randomBytes } from "node:crypto";
import { once } from "node:events";
import { createExportStorage, type ExportStorageConfig } from "../src/index.ts";

const config = JSON.parse(process.env.EXPORT_TEST_STORAGE ?? "") as ExportStorageConfig;
const key = process.env.EXPORT_TEST_KEY ?? "";
const before = Number(process.env.EXPORT_TEST_BYTES_BEFORE ?? "0");

const storage = createExportStorage(config);
const upload = await storage.createWriteStream(key);
const chunk = randomBytes(16 * 1024);
let written = 0;
while (written < before) {
  if (!upload.stream.write(chunk)) await once(upload.stream, "drain");
  written += chunk.length;
}
// Every byte so far has been taken by the storage (for S3: every full part but the last two
// has been stored, and the one before the last is uploading).
await new Promise<void>((resolve, reject) =>
  upload.stream.write(Buffer.alloc(0), (error) => (error ? reject(error) : resolve())),
);
process.stdout.write("mid-upload\n");
setInterval(() => upload.stream.write(chunk), 50);
