import { readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { hashEntryLines } from "../src/transparency/leaf-hash-lines.ts";
import { leafHashWorkerBundle } from "../src/transparency/leaf-hash-worker-bundle.ts";
import { prepareLeafHashWorker, startLeafHasher } from "../src/transparency/leaf-hasher.ts";

// From source the hashing threads run a bundle of the worker made with esbuild (tsx only as the
// fallback): the bundle must be remade when a file it was made from changes, reused otherwise,
// and hash exactly as this thread does.

const cacheDir = join(import.meta.dirname, `../node_modules/.cache/auditlog-test-${process.pid}`);
const HEADER = "// leaf-hash-worker inputs: ";

/** A COPY line of entry `seq` (as in leaf-hash-lines.test.ts). */
function line(seq: number): string {
  return [
    String(seq),
    `evt_${seq}`,
    "repo.create",
    "content",
    seq === 295 ? "two\\nlines" : `made repo ${seq} "x"`,
    seq % 3 === 0 ? "t" : "f",
    `2026-01-02 03:04:${String(seq % 60).padStart(2, "0")}.${seq % 1000}+00`,
    "2026-01-02 03:04:05+00",
    "user",
    `u${seq % 7}`,
    seq === 290 ? "\\N" : `name ${seq}`,
    ...Array(13).fill("\\N"),
    `{"n": ${seq}, "repo": "r${seq}"}`,
    "AAAAAAAAAAAAAAAAAAAAAA==",
    "\\N",
  ].join("\t");
}

describe("the leaf-hash worker's bundle", () => {
  it("is made once, reused while its inputs are unchanged, remade when one changes", async () => {
    rmSync(cacheDir, { recursive: true, force: true });
    try {
      const file = await leafHashWorkerBundle(cacheDir);
      const text = readFileSync(file, "utf8");
      const inputs = JSON.parse(text.slice(HEADER.length, text.indexOf("\n"))) as Record<
        string,
        string
      >;
      const names = Object.keys(inputs).map((input) => input.split("/").slice(-1)[0]);
      expect(names).toEqual(
        expect.arrayContaining([
          "leaf-hash-worker.ts",
          "leaf-hash-lines.ts",
          "leaf-hash-worker-bundle.ts",
          "entry-leaf-wasm.ts",
          "entry-leaf-bytes-wasm.ts",
          "entry-line-reader.ts",
        ]),
      );
      expect(text).not.toMatch(/from "@auditlog\//);
      // Top-level constants are const again (esbuild writes var), reassigned ones stay var.
      expect(text).toMatch(/^const COLUMN_COUNT = 27;$/m);
      expect(text).toMatch(/^var instance;$/m);
      const made = statSync(file).mtimeMs;
      await leafHashWorkerBundle(cacheDir);
      expect(statSync(file).mtimeMs).toBe(made);
      // An input whose recorded hash no longer matches (as if the file had been edited since).
      const [first] = Object.keys(inputs);
      const stale = { ...inputs, [first as string]: "0".repeat(64) };
      writeFileSync(
        file,
        `${HEADER}${JSON.stringify(stale)}\n${text.slice(text.indexOf("\n") + 1)}`,
      );
      await leafHashWorkerBundle(cacheDir);
      expect(readFileSync(file, "utf8")).toBe(text);
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
  }, 60_000);

  it("is what the threads run from source, and they hash as this thread does", async () => {
    expect(await prepareLeafHashWorker()).toMatch(/node_modules\/\.cache\/auditlog\/.*\.mjs$/);
    // Whole tiles, a line with no leaf (seq 290), and one the byte path does not take (295).
    const chunk = Buffer.from(Array.from({ length: 300 }, (_, i) => `${line(i + 1)}\n`).join(""));
    const hasher = await startLeafHasher("org_bundle_test", 2);
    try {
      const answers = await Promise.all([hasher.hash(chunk), hasher.hash(chunk)]);
      const here = hashEntryLines("org_bundle_test", chunk);
      for (const answer of answers) {
        expect(answer.count).toBe(300);
        expect(Buffer.from(answer.hashes).equals(Buffer.from(here.hashes))).toBe(true);
        expect(Buffer.from(answer.tileRoots).equals(Buffer.from(here.tileRoots))).toBe(true);
        expect([...answer.bad]).toEqual([...here.bad]);
        expect(answer.bad[289]).toBe(1);
        expect(answer.tileRoots.length).toBe(32);
      }
    } finally {
      await hasher.close();
    }
  }, 60_000);
});
