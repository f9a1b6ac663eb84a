import { mkdtemp, readdir, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { text } from "node:stream/consumers";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExportStorage } from "./create-export-storage.ts";
import type { ExportStorage } from "./export-storage.ts";

async function write(stream: NodeJS.WritableStream, data: string) {
  await new Promise<void>((resolve, reject) => {
    stream.on("error", reject);
    stream.end(data, () => resolve());
  });
}

describe("local export storage", () => {
  let dir: string;
  let storage: ExportStorage;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "auditlog-export-storage-"));
    storage = createExportStorage({ kind: "local", dir });
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  it("shows a file only once committed, under its key", async () => {
    const upload = await storage.createWriteStream("org_1/exp_1-1.json.gz");
    await write(upload.stream, "hello");
    expect(await storage.stat("org_1/exp_1-1.json.gz")).toBeNull();
    expect(await readdir(join(dir, "org_1"))).toEqual(["exp_1-1.json.gz.partial"]);
    expect(await upload.commit()).toEqual({ size: 5 });
    expect(await readdir(join(dir, "org_1"))).toEqual(["exp_1-1.json.gz"]);
    const stream = await storage.openRead("org_1/exp_1-1.json.gz");
    expect(stream && (await text(stream))).toBe("hello");
    await storage.delete("org_1/exp_1-1.json.gz");
    expect(await storage.openRead("org_1/exp_1-1.json.gz")).toBeNull();
    await storage.delete("org_1/exp_1-1.json.gz"); // idempotent
  });

  it("starts a partial over instead of appending, and abort removes it", async () => {
    const first = await storage.createWriteStream("org_2/exp_2-1.csv.gz");
    await write(first.stream, "a leftover that must not survive");
    const second = await storage.createWriteStream("org_2/exp_2-1.csv.gz");
    await write(second.stream, "fresh");
    await second.commit();
    expect(await readFile(join(dir, "org_2/exp_2-1.csv.gz"), "utf8")).toBe("fresh");
    await first.abort(); // the stale writer gives up: the committed file stays

    const aborted = await storage.createWriteStream("org_2/exp_2-2.csv.gz");
    aborted.stream.write("half");
    await aborted.abort();
    await aborted.abort();
    expect(await readdir(join(dir, "org_2"))).toEqual(["exp_2-1.csv.gz"]);
  });

  it.each(["../escape.gz", "/abs.gz", "a/../../b.gz", "a//b.gz", ".hidden", "x.partial", ""])(
    "refuses the key %j",
    async (key) => {
      await expect(storage.createWriteStream(key)).rejects.toThrow(/invalid export storage key/);
      await expect(storage.openRead(key)).rejects.toThrow(/invalid export storage key/);
    },
  );
});
