import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointOrigin,
  consistencyProof,
  formatCheckpoint,
  generateSignerKey,
  inclusionProof,
  isValidKeyName,
  leafHash,
  MemoryTileStore,
  NoteError,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signerKeyFromSeed,
  signNote,
  type Tile,
  tilePath,
  treeHash,
  verifyConsistency,
  verifyInclusion,
} from "../src/index.ts";
import { GoInterop } from "./support/go-interop.ts";
import { b64, fromB64 } from "./support/trees.ts";

// Our formats against Go's own implementation (golang.org/x/mod/sumdb/note and sumdb/tlog, which
// the C2SP specifications were written from), in both directions.

let go: GoInterop;

beforeAll(() => {
  go = GoInterop.start();
}, 120_000);

afterAll(async () => {
  await go?.close();
});

// Note texts: lines of any well-formed text but controls, blank lines allowed, final newline.
const noteText = fc
  .array(
    fc
      .string({ unit: "binary", maxLength: 30 })
      .map((line) => line.replace(/[\u0000-\u001f]/g, "")),
    {
      minLength: 1,
      maxLength: 6,
    },
  )
  .map((lines) => `${lines.join("\n")}\n`);

const keyName = fc.constantFrom(
  "auditlog.example",
  "auditlog.localhost/orgs",
  "名前",
  "a",
  "log-ü/1",
);

describe("signed notes, against Go's sumdb/note", () => {
  it("notes we sign open with note.Open and our verifier key; Go signs the same bytes with our signer key", async () => {
    await fc.assert(
      fc.asyncProperty(noteText, keyName, async (text, name) => {
        const signerKey = generateSignerKey(name);
        const signer = parseSignerKey(signerKey);
        const note = signNote(text, signer);
        const opened = await go.ok({ op: "open", note, keys: [signer.verifierKey] });
        expect(opened.text ?? "").toBe(text);
        expect(opened.sigs).toEqual([{ name, keyId: signer.keyId }]);
        // Ed25519 is deterministic: Go's note.Sign with our key string writes our note.
        expect((await go.ok({ op: "sign", text, keys: [signerKey] })).note).toBe(note);
        expect(await go.ok({ op: "newSigner", key: signerKey })).toEqual({
          name,
          keyId: signer.keyId,
        });
        expect(await go.ok({ op: "newVerifier", key: signer.verifierKey })).toEqual({
          name,
          keyId: signer.keyId,
        });
      }),
      { numRuns: 150 },
    );
  });

  it("checkpoints we sign open with note.Open", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.string({ minLength: 1, maxLength: 20 }).filter((id) => !/[\u0000-\u001f]/.test(id)),
        fc.nat({ max: Number.MAX_SAFE_INTEGER }),
        fc.uint8Array({ minLength: 32, maxLength: 32 }),
        async (orgId, treeSize, rootHash) => {
          const signer = parseSignerKey(generateSignerKey("auditlog.example"));
          const text = formatCheckpoint({
            origin: checkpointOrigin("auditlog.example", orgId),
            treeSize,
            rootHash,
          });
          const note = signNote(text, signer);
          const opened = await go.ok({ op: "open", note, keys: [signer.verifierKey] });
          expect(opened.text).toBe(text);
          expect(opened.sigs).toEqual([{ name: "auditlog.example", keyId: signer.keyId }]);
        },
      ),
      { numRuns: 100 },
    );
  });

  it("notes Go signs, with keys Go generated, open with openNote; we sign them the same", async () => {
    await fc.assert(
      fc.asyncProperty(noteText, keyName, keyName, async (text, name, otherName) => {
        const key = await go.ok({ op: "generateKey", name });
        const other = await go.ok({ op: "generateKey", name: otherName });
        const note = (await go.ok({ op: "sign", text, keys: [key.signerKey, other.signerKey] }))
          .note as string;
        const opened = openNote(note, [key.verifierKey as string]);
        expect(opened.text).toBe(text);
        expect(opened.signatures).toEqual([
          { name, keyId: parseVerifierKey(key.verifierKey as string).keyId },
        ]);
        expect(opened.unknownSignatures).toHaveLength(1);
        expect(
          signNote(text, [
            parseSignerKey(key.signerKey as string),
            parseSignerKey(other.signerKey as string),
          ]),
        ).toBe(note);
        expect(parseSignerKey(key.signerKey as string).verifierKey).toBe(key.verifierKey);
      }),
      { numRuns: 100 },
    );
  });

  it("what one refuses, the other refuses", async () => {
    const signerKey = signerKeyFromSeed("auditlog.example", new Uint8Array(32).fill(7));
    const signer = parseSignerKey(signerKey);
    const note = signNote("auditlog.example/orgs/o\n5\nAAAA\n", signer);
    const broken = [
      note.replace("5", "6"),
      note.replace("\n\n", "\n"),
      note.slice(0, -1),
      note.replace("— ", "-- "),
      `${note}\u0001`,
      note.replace(/.(=?\n)$/, (_match, end: string) => `A${end}`),
    ];
    for (const text of broken) {
      const goAnswer = await go.request({ op: "open", note: text, keys: [signer.verifierKey] });
      expect(goAnswer.error, JSON.stringify(text)).toBeDefined();
      expect(() => openNote(text, [signer.verifierKey]), JSON.stringify(text)).toThrow(NoteError);
    }
    // A key of another name or hash: unknown to both, so neither finds a known signature.
    const stranger = parseSignerKey(generateSignerKey("auditlog.example")).verifierKey;
    expect((await go.request({ op: "open", note, keys: [stranger] })).error).toMatch(
      /no verifiable signatures/,
    );
    expect(() => openNote(note, [stranger])).toThrow(/no signature from a known key/);
  });

  it("key names: Go's note.NewSigner and isValidKeyName agree", async () => {
    const spaces = [
      ..."\t\n\v\f\r \u0085\u00a0\u1680\u2000\u2005\u200a\u2028\u2029\u202f\u205f\u3000",
    ];
    const near = [..."\u180e\u200b\ufeff\u00ad+"];
    const names = [
      ...spaces.map((c) => `a${c}b`),
      ...near.map((c) => `a${c}b`),
      ...fc.sample(fc.string({ unit: "binary", minLength: 1, maxLength: 8 }), 200),
    ];
    for (const name of names) {
      const key = await go.ok({ op: "generateKey", name });
      const goAccepts =
        (await go.request({ op: "newSigner", key: key.signerKey })).error === undefined;
      expect(isValidKeyName(name), JSON.stringify(name)).toBe(goAccepts);
    }
  });
});

/** Tiles as a static C2SP log would serve them: every version written at its tile path. */
async function writeTiles(directory: string, tiles: readonly Tile[]): Promise<void> {
  for (const tile of tiles) {
    const path = join(directory, tilePath(tile.level, tile.index, tile.hashes.length / 32));
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, tile.hashes);
  }
}

interface Built {
  store: MemoryTileStore;
  boundaries: number[];
  directory: string;
}

/** Go's tree of "<seed>/<i>" records and ours of the same leaves, in random-sized appends. */
async function buildBoth(seed: string, size: number, maxAppend: number): Promise<Built> {
  await go.ok({ op: "loadTree", seed, count: size });
  const store = new MemoryTileStore();
  const directory = await mkdtemp(join(tmpdir(), "tlog-tiles-"));
  const boundaries: number[] = [];
  while (store.size < size) {
    const count = Math.min(size - store.size, 1 + Math.floor(Math.random() * maxAppend));
    const leaves = Array.from({ length: count }, (_, i) => leafHash(`${seed}/${store.size + i}`));
    await writeTiles(directory, await store.append(leaves));
    boundaries.push(store.size);
  }
  return { store, boundaries, directory };
}

function pick<T>(values: readonly T[], count: number): T[] {
  return Array.from(
    { length: count },
    () => values[Math.floor(Math.random() * values.length)] as T,
  );
}

describe("trees, proofs and tiles, against Go's sumdb/tlog", () => {
  it("sizes 1 … 1,000: tree hashes, inclusion and consistency proofs agree, each side checks the other's", async () => {
    const seed = `s${Math.random()}`;
    const { store, boundaries, directory } = await buildBoth(seed, 1000, 300);
    try {
      for (let size = 1; size <= 1000; size++) {
        const root = b64(await treeHash(store, size));
        expect((await go.ok({ op: "treeHash", size })).hash, `size ${size}`).toBe(root);
        const index = Math.floor(Math.random() * size);
        const ours = (await inclusionProof(store, index, size)).map(b64);
        const theirs = (await go.ok({ op: "proveRecord", size, index })).proof ?? [];
        expect(ours, `inclusion ${index} in ${size}`).toEqual(theirs);
        const leaf = b64(leafHash(`${seed}/${index}`));
        expect(await go.ok({ op: "checkRecord", proof: ours, size, root, index, leaf })).toEqual({
          ok: true,
        });
        expect(
          verifyInclusion({
            leafIndex: index,
            treeSize: size,
            leafHash: fromB64(leaf),
            proof: theirs.map(fromB64),
            rootHash: fromB64(root),
          }),
        ).toBe(true);
        const old = 1 + Math.floor(Math.random() * size);
        const oldRoot = b64(await treeHash(store, old));
        const consistency = (await consistencyProof(store, old, size)).map(b64);
        const goConsistency = (await go.ok({ op: "proveTree", size, old })).proof ?? [];
        expect(consistency, `consistency ${old} → ${size}`).toEqual(goConsistency);
        expect(
          await go.ok({ op: "checkTree", proof: consistency, size, root, old, oldRoot }),
        ).toEqual({ ok: true });
        expect(
          verifyConsistency({
            fromSize: old,
            toSize: size,
            fromRoot: fromB64(oldRoot),
            toRoot: fromB64(root),
            proof: goConsistency.map(fromB64),
          }),
        ).toBe(true);
      }
      // Go's TileHashReader reads our tiles (C2SP paths), authenticating each against Go's own
      // tree hash: the stored tiles are right, partial ones included, at every append's size.
      for (const size of boundaries) {
        const root = (await go.ok({ op: "treeHash", size })).hash;
        const indexes = pick([...Array(size).keys()], 3);
        const olds = pick(
          [...Array(size).keys()].map((i) => i + 1),
          3,
        );
        const answer = await go.ok({ op: "tiles", dir: directory, size, root, indexes, olds });
        expect(answer.hash).toBe(root);
        for (const [i, index] of indexes.entries()) {
          expect(answer.proofs?.[i] ?? []).toEqual(
            (await inclusionProof(store, index, size)).map(b64),
          );
        }
        for (const [i, old] of olds.entries()) {
          expect(answer.treeProofs?.[i] ?? []).toEqual(
            (await consistencyProof(store, old, size)).map(b64),
          );
        }
      }
    } finally {
      await rm(directory, { recursive: true, force: true });
    }
  }, 300_000);

  it.each([70_000, 1_000_000])(
    "a tree of %i leaves in appends of up to 100,000: same root, proofs and tiles as Go's",
    async (size) => {
      const seed = `big${Math.random()}`;
      const { store, boundaries, directory } = await buildBoth(seed, size, 100_000);
      try {
        for (const at of [...pick(boundaries, 3), size]) {
          const root = (await go.ok({ op: "treeHash", size: at })).hash;
          expect(b64(await treeHash(store, at))).toBe(root);
          const indexes = pick(
            [...Array(8).keys()].map(() => Math.floor(Math.random() * at)),
            8,
          );
          const olds = [
            1,
            ...pick(
              [...Array(8).keys()].map(() => 1 + Math.floor(Math.random() * at)),
              7,
            ),
          ];
          const answer = await go.ok({
            op: "tiles",
            dir: directory,
            size: at,
            root,
            indexes,
            olds,
          });
          expect(answer.hash).toBe(root);
          for (const [i, index] of indexes.entries()) {
            const ours = (await inclusionProof(store, index, at)).map(b64);
            expect(ours).toEqual(answer.proofs?.[i] ?? []);
            expect(ours).toEqual((await go.ok({ op: "proveRecord", size: at, index })).proof ?? []);
          }
          for (const [i, old] of olds.entries()) {
            const ours = (await consistencyProof(store, old, at)).map(b64);
            expect(ours).toEqual(answer.treeProofs?.[i] ?? []);
            expect(ours).toEqual((await go.ok({ op: "proveTree", size: at, old })).proof ?? []);
          }
        }
      } finally {
        await rm(directory, { recursive: true, force: true });
      }
    },
    300_000,
  );

  it("tilePath is Go's Tile.Path() without the height element", async () => {
    const coords = fc.sample(
      fc.tuple(
        fc.integer({ min: 0, max: 63 }),
        fc.nat({ max: 2 ** 40 }),
        fc.integer({ min: 1, max: 256 }),
      ),
      300,
    );
    for (const [level, index, width] of [
      ...coords,
      [0, 0, 256],
      [1, 1234067, 3],
      [2, 999, 256],
      [3, 1000, 1],
    ] as const) {
      const goPath = (await go.ok({ op: "tilePath", level, index, width })).path as string;
      expect(goPath.startsWith("tile/8/")).toBe(true);
      expect(tilePath(level, index, width)).toBe(`tile/${goPath.slice("tile/8/".length)}`);
    }
  });
});
