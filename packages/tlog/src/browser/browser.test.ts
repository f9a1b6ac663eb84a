import { readFileSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import fc from "fast-check";
import { beforeAll, describe, expect, it } from "vitest";
import { leafEntryArbitrary } from "../../test/support/leaf-arbitrary.ts";
import { goldenOrgId, userEntry } from "../../test/support/leaf-entries.ts";
import { flipBit, hex, randomLeafHashes, tilesOf } from "../../test/support/trees.ts";
import * as node from "../index.ts";
import * as browser from "./index.ts";

// The WebCrypto entry point runs here on Node 20's globalThis.crypto.subtle, the same API the
// console's Chromium has; it must answer exactly as the Node functions do.

describe("@auditlog/tlog/browser", () => {
  it("imports nothing from Node, directly or through its modules", () => {
    const here = dirname(fileURLToPath(import.meta.url));
    const seen = new Set<string>();
    const visit = (file: string) => {
      if (seen.has(file)) return;
      seen.add(file);
      const code = readFileSync(file, "utf8")
        .replace(/\/\*[\s\S]*?\*\//g, "")
        .replace(/^\s*\/\/.*$/gm, "")
        .replace(/\s\/\/.*$/gm, "");
      for (const [, typeOnly, specifier] of code.matchAll(
        /(?:import|export)\s+(type\s)?[^;]*?from\s+"([^"]+)"/g,
      )) {
        if (typeOnly) continue;
        expect(specifier, `${file} imports ${specifier}`).toMatch(/^\.\.?\//);
        visit(resolve(dirname(file), specifier as string));
      }
      expect(code, `${file} uses Buffer or process`).not.toMatch(/\b(Buffer|process)\b/);
    };
    visit(join(here, "index.ts"));
    expect([...seen].map((file) => file.slice(here.length - "src/browser".length))).toEqual(
      expect.arrayContaining([
        "src/browser/index.ts",
        "src/verify-plan.ts",
        "src/note-format.ts",
        "src/leaf-form.ts",
      ]),
    );
    expect([...seen].some((file) => /\/(hash|note|tree|tiles|leaf|key-ring)\.ts$/.test(file))).toBe(
      false,
    );
  });

  describe("proofs", () => {
    let leaves: Uint8Array[];
    let tiles: node.MemoryTileStore;
    beforeAll(async () => {
      leaves = randomLeafHashes(300);
      tiles = await tilesOf(leaves, 50);
    });

    it("verifyInclusion answers as the Node one, for good proofs and broken ones", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .integer({ min: 1, max: 300 })
            .chain((size) =>
              fc.tuple(
                fc.constant(size),
                fc.integer({ min: 0, max: size - 1 }),
                fc.nat(),
                fc.boolean(),
              ),
            ),
          async ([size, index, bit, broken]) => {
            const proof = await node.inclusionProof(tiles, index, size);
            const rootHash = await node.treeHash(tiles, size);
            const leafHash = leaves[index] as Uint8Array;
            const check = {
              leafIndex: index,
              treeSize: size,
              leafHash: broken ? flipBit(leafHash, bit % 256) : leafHash,
              proof,
              rootHash,
            };
            expect(await browser.verifyInclusion(check)).toBe(node.verifyInclusion(check));
            expect(await browser.verifyInclusion(check)).toBe(!broken);
          },
        ),
        { numRuns: 150 },
      );
    });

    it("verifyConsistency answers as the Node one, for good proofs and broken ones", async () => {
      await fc.assert(
        fc.asyncProperty(
          fc
            .integer({ min: 1, max: 300 })
            .chain((to) =>
              fc.tuple(fc.integer({ min: 1, max: to }), fc.constant(to), fc.nat(), fc.boolean()),
            ),
          async ([from, to, bit, broken]) => {
            const proof = await node.consistencyProof(tiles, from, to);
            const toRoot = await node.treeHash(tiles, to);
            const fromRoot = await node.treeHash(tiles, from);
            const check = {
              fromSize: from,
              toSize: to,
              fromRoot: broken ? flipBit(fromRoot, bit % 256) : fromRoot,
              toRoot,
              proof,
            };
            expect(await browser.verifyConsistency(check)).toBe(node.verifyConsistency(check));
            expect(await browser.verifyConsistency(check)).toBe(!broken);
          },
        ),
        { numRuns: 150 },
      );
    });
  });

  it("verifyNote answers as openNote, and refuses what it refuses", async () => {
    const signer = node.parseSignerKey(node.generateSignerKey("auditlog.example"));
    const other = node.parseSignerKey(node.generateSignerKey("other.example"));
    const note = node.signNote("auditlog.example/orgs/o\n3\nAAAA\n", [signer, other]);
    expect(await browser.verifyNote(note, [signer.verifierKey])).toEqual(
      node.openNote(note, [signer.verifierKey]),
    );
    expect((await browser.verifyNote(note, [signer.verifierKey])).unknownSignatures).toEqual([
      { name: "other.example", keyId: other.keyId },
    ]);
    await expect(browser.verifyNote(note.replace("3", "4"), [signer.verifierKey])).rejects.toThrow(
      /invalid signature/,
    );
    await expect(browser.verifyNote(note, [])).rejects.toThrow(/no signature from a known key/);
    await expect(browser.verifyNote(note.slice(0, -1), [signer.verifierKey])).rejects.toThrow(
      /malformed/,
    );
    await expect(
      browser.verifyNote(note, [`${signer.verifierKey.slice(0, -2)}AA`]),
    ).rejects.toThrow(browser.NoteError);
  });

  it("verifyCheckpoint opens a signed checkpoint of the expected origin", async () => {
    const signer = node.parseSignerKey(node.generateSignerKey("auditlog.example"));
    const rootHash = randomLeafHashes(1)[0] as Uint8Array;
    const origin = browser.checkpointOrigin("auditlog.example", "org_1");
    const note = node.signNote(node.formatCheckpoint({ origin, treeSize: 42, rootHash }), signer);
    const opened = await browser.verifyCheckpoint(note, [signer.verifierKey], origin);
    expect([opened.treeSize, hex(opened.rootHash)]).toEqual([42, hex(rootHash)]);
    await expect(
      browser.verifyCheckpoint(note, [signer.verifierKey], `${origin}x`),
    ).rejects.toThrow(browser.CheckpointError);
  });

  it("entryLeafHash gives the Node leaf hash of any entry", async () => {
    expect(hex(await browser.entryLeafHash(goldenOrgId, userEntry))).toBe(
      "fc882296d257e10c5ee5c17cb9f8de5785c9e7534119187ea755476bd0ac0fb4",
    );
    await fc.assert(
      fc.asyncProperty(leafEntryArbitrary, async (entry) => {
        expect(hex(await browser.entryLeafHash("org_1", entry))).toBe(
          hex(node.entryLeafHash("org_1", entry)),
        );
        expect(await browser.entryLeafJson("org_1", entry)).toBe(
          node.entryLeafJson("org_1", entry),
        );
      }),
      { numRuns: 200 },
    );
  });
});
