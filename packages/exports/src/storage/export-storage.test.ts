import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, relative } from "node:path";
import { buffer, text } from "node:stream/consumers";
import { fileURLToPath } from "node:url";
import { S3TestServer, s3TestCredentials } from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExportStorage } from "./create-export-storage.ts";
import type { ExportStorage, ExportStorageConfig } from "./export-storage.ts";

const repoRoot = fileURLToPath(new URL("../../../../", import.meta.url));
const killedWriter = fileURLToPath(new URL("../../test/write-until-killed.ts", import.meta.url));
/** Small parts, so a file of a few hundred KiB is a real multipart upload of several parts. */
const testPartSize = 64 * 1024;

async function write(stream: NodeJS.WritableStream, data: string | Buffer) {
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.end(data, () => resolve());
  });
}

async function listFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true }).catch(() => []);
  return entries
    .filter((entry) => entry.isFile())
    .map((entry) => relative(dir, join(entry.parentPath, entry.name)))
    .sort();
}

/** One storage under test, and how to see what a reader of it can see. */
interface Backend {
  config: ExportStorageConfig;
  storage: ExportStorage;
  /** The keys a reader can see (committed files or objects), sorted. */
  visibleKeys(): Promise<string[]>;
  close(): Promise<void>;
}

const backends: { name: string; start(): Promise<Backend> }[] = [
  {
    name: "local directory",
    async start() {
      const dir = await mkdtemp(join(tmpdir(), "auditlog-export-storage-"));
      const config: ExportStorageConfig = { kind: "local", dir };
      return {
        config,
        storage: createExportStorage(config),
        visibleKeys: async () => (await listFiles(dir)).filter((f) => !f.endsWith(".partial")),
        close: () => rm(dir, { recursive: true, force: true }),
      };
    },
  },
  {
    name: "S3-compatible server (s3rver)",
    async start() {
      const server = await new S3TestServer("auditlog-exports").start();
      const prefix = "contract";
      const config: ExportStorageConfig = {
        kind: "s3",
        bucket: server.bucket,
        region: "us-east-1",
        endpoint: server.endpoint,
        forcePathStyle: true,
        credentials: s3TestCredentials,
        prefix,
        partSize: testPartSize,
      };
      return {
        config,
        storage: createExportStorage(config),
        visibleKeys: async () =>
          (await server.keys(`${prefix}/`)).map((key) => key.slice(prefix.length + 1)),
        close: () => server.close(),
      };
    },
  },
];

describe.each(backends)("export storage contract: $name", ({ start }) => {
  let backend: Backend;
  let storage: ExportStorage;
  beforeAll(async () => {
    backend = await start();
    storage = backend.storage;
  });
  afterAll(() => backend?.close());

  it("shows a file only once committed, under its key, and reads back every byte", async () => {
    const bytes = randomBytes(5 * testPartSize + 1234);
    const upload = await storage.createWriteStream("org_1/exp_1-1.json.gz");
    await write(upload.stream, bytes);
    expect(await storage.stat("org_1/exp_1-1.json.gz")).toBeNull();
    expect(await storage.openRead("org_1/exp_1-1.json.gz")).toBeNull();
    expect(await backend.visibleKeys()).toEqual([]);
    expect(await upload.commit()).toEqual({ size: bytes.length });
    expect(await backend.visibleKeys()).toEqual(["org_1/exp_1-1.json.gz"]);
    expect(await storage.stat("org_1/exp_1-1.json.gz")).toEqual({ size: bytes.length });
    const stream = await storage.openRead("org_1/exp_1-1.json.gz");
    expect(stream && (await buffer(stream)).equals(bytes)).toBe(true);
    await storage.delete("org_1/exp_1-1.json.gz");
    expect(await storage.openRead("org_1/exp_1-1.json.gz")).toBeNull();
    expect(await storage.stat("org_1/exp_1-1.json.gz")).toBeNull();
    await storage.delete("org_1/exp_1-1.json.gz"); // idempotent
    expect(await backend.visibleKeys()).toEqual([]);
  });

  it("stores a short file and an empty one", async () => {
    for (const [key, data] of [
      ["org_3/exp_3-1.ndjson.gz", "hello"],
      ["org_3/exp_3-2.ndjson.gz", ""],
    ] as const) {
      const upload = await storage.createWriteStream(key);
      await write(upload.stream, data);
      expect(await upload.commit()).toEqual({ size: data.length });
      const stream = await storage.openRead(key);
      expect(stream && (await text(stream))).toBe(data);
      await storage.delete(key);
    }
  });

  it("starts a file over instead of appending, and abort leaves nothing visible", async () => {
    const first = await storage.createWriteStream("org_2/exp_2-1.csv.gz");
    await write(first.stream, "a leftover that must not survive");
    const second = await storage.createWriteStream("org_2/exp_2-1.csv.gz");
    await write(second.stream, "fresh");
    await second.commit();
    await first.abort(); // the stale writer gives up: the committed file stays
    const committed = await storage.openRead("org_2/exp_2-1.csv.gz");
    expect(committed && (await text(committed))).toBe("fresh");

    const aborted = await storage.createWriteStream("org_2/exp_2-2.csv.gz");
    aborted.stream.write(randomBytes(3 * testPartSize));
    await aborted.abort();
    await aborted.abort();
    expect(await backend.visibleKeys()).toEqual(["org_2/exp_2-1.csv.gz"]);
    expect(await storage.stat("org_2/exp_2-2.csv.gz")).toBeNull();
    await storage.delete("org_2/exp_2-1.csv.gz");
  });

  it("refuses to commit before the stream has finished", async () => {
    const upload = await storage.createWriteStream("org_4/exp_4-1.json.gz");
    upload.stream.write("half");
    await expect(upload.commit()).rejects.toThrow(/before the stream finished/);
    await upload.abort();
    expect(await storage.stat("org_4/exp_4-1.json.gz")).toBeNull();
  });

  it("leaves nothing visible when the writing process is killed with SIGKILL mid-upload; a new attempt then commits", {
    timeout: 60_000,
  }, async () => {
    const key = "org_5/exp_5-1.json.gz";
    const child = spawn(process.execPath, ["--import", "tsx", killedWriter], {
      cwd: repoRoot,
      env: {
        ...process.env,
        EXPORT_TEST_STORAGE: JSON.stringify(backend.config),
        EXPORT_TEST_KEY: key,
        EXPORT_TEST_BYTES_BEFORE: String(4 * testPartSize),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    const exited = new Promise<NodeJS.Signals | null>((resolve) =>
      child.once("exit", (_code, signal) => resolve(signal)),
    );
    await new Promise<void>((resolve, reject) => {
      let out = "";
      child.stdout.on("data", (chunk: Buffer) => {
        out += chunk.toString("utf8");
        if (out.includes("mid-upload\n")) resolve();
      });
      child.once("exit", (code) => reject(new Error(`writer exited (${code}) before mid-upload`)));
    });
    child.kill("SIGKILL");
    expect(await exited).toBe("SIGKILL");

    expect(await backend.visibleKeys()).toEqual([]);
    expect(await storage.stat(key)).toBeNull();
    expect(await storage.openRead(key)).toBeNull();

    // What a retried build does: write the same key again, from scratch.
    const retry = await storage.createWriteStream(key);
    await write(retry.stream, "rebuilt");
    await retry.commit();
    const stream = await storage.openRead(key);
    expect(stream && (await text(stream))).toBe("rebuilt");
    expect(await backend.visibleKeys()).toEqual([key]);
    await storage.delete(key);
  });

  it.each(["../escape.gz", "/abs.gz", "a/../../b.gz", "a//b.gz", ".hidden", "x.partial", ""])(
    "refuses the key %j",
    async (key) => {
      await expect(storage.createWriteStream(key)).rejects.toThrow(/invalid export storage key/);
      await expect(storage.openRead(key)).rejects.toThrow(/invalid export storage key/);
    },
  );
});

describe("local export storage", () => {
  let dir: string;
  let storage: ExportStorage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auditlog-export-storage-"));
    storage = createExportStorage({ kind: "local", dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("writes to `<key>.partial` and renames it into place on commit", async () => {
    const upload = await storage.createWriteStream("org_1/exp_1-1.json.gz");
    await write(upload.stream, "hello");
    expect(await readdir(join(dir, "org_1"))).toEqual(["exp_1-1.json.gz.partial"]);
    await upload.commit();
    expect(await readdir(join(dir, "org_1"))).toEqual(["exp_1-1.json.gz"]);
    expect(await readFile(join(dir, "org_1/exp_1-1.json.gz"), "utf8")).toBe("hello");
    expect(await storage.downloadUrl("org_1/exp_1-1.json.gz", { fileName: "x.gz" })).toBeNull();
  });
});
