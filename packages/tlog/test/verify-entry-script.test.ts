import fc from "fast-check";
import { describe, expect, it } from "vitest";
import {
  entryLeafHash as scriptLeafHash,
  openNote as scriptOpenNote,
  parseVerifierKey as scriptParseVerifierKey,
  verifyConsistency as scriptVerifyConsistency,
  verifyInclusion as scriptVerifyInclusion,
} from "../../../scripts/verify-entry.mjs";
import {
  consistencyProof,
  entryLeafHash,
  generateSignerKey,
  inclusionProof,
  MemoryTileStore,
  parseSignerKey,
  signNote,
  treeHash,
} from "../src/index.ts";
import { leafEntryArbitrary } from "./support/leaf-arbitrary.ts";
import { goldenOrgId, systemEntry, tokenEntry, userEntry } from "./support/leaf-entries.ts";
import { flipBit, randomLeafHashes } from "./support/trees.ts";

// scripts/verify-entry.mjs is the README's standalone auditor script: written apart from this
// package (node:crypto only), it must agree with it on every leaf, proof and note.

describe("the standalone verification script", () => {
  it("computes the same leaf hash as @auditlog/tlog (golden entries and 500 arbitrary ones)", () => {
    for (const entry of [userEntry, tokenEntry, systemEntry]) {
      expect(scriptLeafHash(goldenOrgId, entry).toString("hex")).toBe(
        Buffer.from(entryLeafHash(goldenOrgId, entry)).toString("hex"),
      );
    }
    fc.assert(
      fc.property(leafEntryArbitrary, (entry) => {
        expect(
          Buffer.from(scriptLeafHash("org_x", entry)).equals(entryLeafHash("org_x", entry)),
        ).toBe(true);
      }),
      { numRuns: 500 },
    );
  });

  it("accepts every inclusion and consistency proof of trees of 1 … 70 leaves and refuses altered ones", async () => {
    const store = new MemoryTileStore();
    const leaves = randomLeafHashes(70);
    await store.append(leaves);
    let checked = 0;
    for (let size = 1; size <= 70; size++) {
      const root = await treeHash(store, size);
      for (let index = 0; index < size; index++) {
        const proof = await inclusionProof(store, index, size);
        expect(scriptVerifyInclusion(index, size, leaves[index] as Uint8Array, proof, root)).toBe(
          true,
        );
        expect(
          scriptVerifyInclusion(index, size, flipBit(leaves[index] as Uint8Array, 3), proof, root),
        ).toBe(false);
        if (proof.length > 0) {
          const bad = proof.map((h, i) => (i === proof.length - 1 ? flipBit(h, 0) : h));
          expect(scriptVerifyInclusion(index, size, leaves[index] as Uint8Array, bad, root)).toBe(
            false,
          );
        }
        checked++;
      }
      for (let from = 1; from <= size; from++) {
        const first = await treeHash(store, from);
        const proof = await consistencyProof(store, from, size);
        expect(scriptVerifyConsistency(from, size, proof, first, root), `${from}→${size}`).toBe(
          true,
        );
        if (from < size) {
          expect(scriptVerifyConsistency(from, size, proof, flipBit(first, 1), root)).toBe(false);
        }
        checked++;
      }
    }
    console.log(`[verify-entry script] ${checked} proofs agreed with @auditlog/tlog`);
  });

  it("opens a note signed by @auditlog/tlog with the verifier key, and refuses another key or a changed text", () => {
    const signer = parseSignerKey(generateSignerKey("auditor.test"));
    const other = parseSignerKey(generateSignerKey("auditor.test"));
    const note = signNote("auditor.test/orgs/org_1\n3\nAAAA\n", signer);
    expect(scriptOpenNote(note, [scriptParseVerifierKey(signer.verifierKey)])).toBe(
      "auditor.test/orgs/org_1\n3\nAAAA\n",
    );
    expect(() => scriptOpenNote(note, [scriptParseVerifierKey(other.verifierKey)])).toThrow(
      /does not verify|no signature/,
    );
    expect(() =>
      scriptOpenNote(note.replace("\n3\n", "\n4\n"), [scriptParseVerifierKey(signer.verifierKey)]),
    ).toThrow(/does not verify/);
  });
});
