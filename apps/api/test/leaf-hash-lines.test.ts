import { createHash } from "node:crypto";
import { Readable } from "node:stream";
import { entryLineLeafHash } from "@auditlog/db/entry-lines";
import { describe, expect, it } from "vitest";
import { hashEntryLines, hashEntryRows } from "../src/transparency/leaf-hash-lines.ts";

// The hashing threads' answer for a chunk: a leaf hash per line (the byte path, else the string
// path) and the root of every whole tile, which verify folds in one step. The roots are checked
// here against an RFC 9162 Merkle tree hash written independently.

const sha256 = (...parts: Uint8Array[]) => {
  const h = createHash("sha256");
  for (const part of parts) h.update(part);
  return h.digest();
};

/** RFC 9162 §2.1.1 MTH of leaf hashes (a power of two of them). */
function merkleRoot(leaves: Uint8Array[]): Uint8Array {
  if (leaves.length === 1) return leaves[0] as Uint8Array;
  const half = leaves.length / 2;
  return sha256(
    Uint8Array.of(1),
    merkleRoot(leaves.slice(0, half)),
    merkleRoot(leaves.slice(half)),
  );
}

/** A COPY line of entry `seq`; `quirk` makes it take the string path, or have no leaf. */
function line(seq: number, quirk?: "escaped" | "no-name"): string {
  return [
    String(seq),
    `evt_${seq}`,
    "repo.create",
    "content",
    quirk === "escaped" ? "two\\nlines" : `made repo ${seq} "x"`,
    seq % 3 === 0 ? "t" : "f",
    `2026-01-02 03:04:${String(seq % 60).padStart(2, "0")}.${seq % 1000}+00`,
    "2026-01-02 03:04:05+00",
    "user",
    `u${seq % 7}`,
    quirk === "no-name" ? "\\N" : `name ${seq}`,
    ...Array(13).fill("\\N"),
    `{"n": ${seq}, "repo": "r${seq}"}`,
    "AAAAAAAAAAAAAAAAAAAAAA==",
    // The personal digest an erased entry keeps: none.
    "\\N",
  ].join("\t");
}

const org = "org_tiles";

describe("hashEntryLines", () => {
  it("gives each line's leaf hash and the root of each whole tile, at its line", () => {
    const seqs = Array.from({ length: 700 }, (_, i) => i + 1);
    const lines = seqs.map((seq) => line(seq, seq === 300 ? "escaped" : undefined));
    const chunk = hashEntryLines(org, Buffer.from(`${lines.join("\n")}\n`));
    expect(chunk.count).toBe(700);
    expect([...chunk.seqs]).toEqual(seqs);
    const leaves = lines.map((text) => Buffer.from(entryLineLeafHash(org, text)));
    for (let i = 0; i < 700; i++) {
      expect(Buffer.from(chunk.hashes.subarray(i * 32, i * 32 + 32))).toEqual(leaves[i]);
    }
    expect([...chunk.tileLines]).toEqual([0, 256]);
    expect(Buffer.from(chunk.tileRoots.subarray(0, 32))).toEqual(
      Buffer.from(merkleRoot(leaves.slice(0, 256))),
    );
    expect(Buffer.from(chunk.tileRoots.subarray(32, 64))).toEqual(
      Buffer.from(merkleRoot(leaves.slice(256, 512))),
    );
  });

  it("gives no root for a tile with a line that has no leaf, a missing place or a cut", () => {
    // Places 1 … 800 but 600 missing, 100 unhashable; the chunk starts at place 257 + 5.
    const lines = Array.from({ length: 800 }, (_, i) => i + 1)
      .filter((seq) => seq !== 600)
      .map((seq) => line(seq, seq === 100 ? "no-name" : undefined));
    const all = hashEntryLines(org, Buffer.from(`${lines.join("\n")}\n`));
    expect(all.bad[99]).toBe(1);
    expect([...all.tileLines]).toEqual([256]);
    const cut = hashEntryLines(org, Buffer.from(`${lines.slice(261).join("\n")}\n`));
    expect([...cut.tileLines]).toEqual([]);
  });
});

describe("hashEntryRows", () => {
  const header = Buffer.concat([
    Buffer.from("PGCOPY\n\xff\r\n\0", "latin1"),
    Buffer.alloc(8), // flags, header extension length
  ]);
  const trailer = Buffer.from([0xff, 0xff]);
  const hashAll = async (pieces: Buffer[]) => {
    const chunks = [];
    for await (const chunk of hashEntryRows(org, Readable.from(pieces))) chunks.push(chunk);
    return chunks;
  };

  it("reads a header split across pieces and an empty COPY's trailer", async () => {
    expect(await hashAll([header.subarray(0, 5), header.subarray(5), trailer])).toEqual([]);
  });

  it("fails a stream that is no binary COPY, or that ends before its trailer or mid-row", async () => {
    await expect(hashAll([Buffer.from("1\tevt_1\trepo.create\n")])).rejects.toThrow(
      "not a binary COPY",
    );
    await expect(hashAll([header])).rejects.toThrow("ended mid-row");
    // A row of 27 fields whose first field's length says 8 bytes, and only 3 follow.
    const cut = Buffer.from([0, 27, 0, 0, 0, 8, 0, 0, 1]);
    await expect(hashAll([header, cut])).rejects.toThrow("ended mid-row");
  });
});
