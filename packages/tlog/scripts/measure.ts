// How fast the hot paths are (not a test: timings depend on the machine). Run with
// `pnpm --filter @auditlog/tlog measure`. `verify` needs ≥ 200,000 entries/s end to end, so the
// leaf (two canonicalisations, two SHA-256) should cost ≤ ~3 µs and a RootBuilder push ≤ ~1 µs.

import { hash, randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import {
  consistencyProof,
  entryLeafHash,
  inclusionProof,
  type LeafEntry,
  MemoryTileStore,
  RootBuilder,
  type TileCoord,
  type TileReader,
} from "../src/index.ts";

function entry(i: number): LeafEntry {
  return {
    id: `01J9Z8Q4X6V2M5T3K7H1B${String(i).padStart(5, "0")}`,
    type: "repo.update",
    category: "repository",
    description: `Zoë Müller updated the settings of model-${i}`,
    occurredAt: new Date(1_767_225_600_000 + i * 1000).toISOString(),
    receivedAt: new Date(1_767_225_600_250 + i * 1000).toISOString(),
    hiddenByDefault: i % 10 === 0,
    actor: {
      type: "user",
      id: `user_${i % 1000}`,
      name: "Zoë Müller",
      avatarUrl: `https://cdn.example/avatars/${i % 1000}.png`,
      tokenRole: null,
      tokenLast4: null,
    },
    target: { type: "model", id: `model_${i}`, name: `org/model-${i}` },
    ip: "2001:db8:85a3::",
    location: { countryCode: "DE", region: "Berlin", city: "Berlin" },
    userAgent: "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
    oauth: null,
    data: { visibility: { from: "private", to: "public" }, gated: i % 2 === 0, downloads: i * 7 },
    commitment: { salt: randomBytes(16).toString("base64") },
  };
}

function nsPer(count: number, run: () => void): number {
  const start = performance.now();
  run();
  return ((performance.now() - start) * 1e6) / count;
}

class Counting implements TileReader {
  calls = 0;
  tiles = 0;
  constructor(private readonly inner: TileReader) {}
  async readTiles(coords: readonly TileCoord[]) {
    this.calls++;
    this.tiles += coords.length;
    return this.inner.readTiles(coords);
  }
}

// The floor: one SHA-256 of a node's 65 bytes, to read the others against on a busy machine.
const nodeInput = randomBytes(65);
const sha256Ns = nsPer(1_000_000, () => {
  for (let i = 0; i < 1_000_000; i++) hash("sha256", nodeInput, "buffer");
});

const N = 200_000;
const entries = Array.from({ length: N }, (_, i) => entry(i));
const leaves: Uint8Array[] = new Array(N);
for (let i = 0; i < 20_000; i++) entryLeafHash("org_1", entries[i] as LeafEntry); // warm-up
const leafNs = nsPer(N, () => {
  for (let i = 0; i < N; i++) leaves[i] = entryLeafHash("org_1", entries[i] as LeafEntry);
});

const M = 1_000_000;
const hashes = Array.from({ length: M }, (_, i) => leaves[i % N] as Uint8Array);
new RootBuilder(); // warm-up below
{
  const warm = new RootBuilder();
  for (let i = 0; i < 100_000; i++) warm.push(hashes[i] as Uint8Array);
}
const builder = new RootBuilder();
const pushNs = nsPer(M, () => {
  for (const hash of hashes) builder.push(hash);
});
builder.root();

const endToEndNs = nsPer(N, () => {
  const rebuild = new RootBuilder();
  for (let i = 0; i < N; i++) rebuild.push(entryLeafHash("org_1", entries[i] as LeafEntry));
  rebuild.root();
});

const store = new MemoryTileStore();
const appendStart = performance.now();
for (let at = 0; at < M; at += 100_000) await store.append(hashes.slice(at, at + 100_000));
const appendMs = (performance.now() - appendStart) / 10;

async function proofs(kind: "inclusion" | "consistency") {
  const times: number[] = [];
  let calls = 0;
  let tiles = 0;
  for (let i = 0; i < 1000; i++) {
    const reader = new Counting(store);
    const start = performance.now();
    if (kind === "inclusion") await inclusionProof(reader, Math.floor(Math.random() * M), M);
    else await consistencyProof(reader, 1 + Math.floor(Math.random() * M), M);
    times.push(performance.now() - start);
    calls = Math.max(calls, reader.calls);
    tiles = Math.max(tiles, reader.tiles);
  }
  times.sort((a, b) => a - b);
  return {
    meanMs: times.reduce((a, b) => a + b, 0) / times.length,
    p95Ms: times[949] as number,
    maxCalls: calls,
    maxTiles: tiles,
  };
}

const inclusion = await proofs("inclusion");
const consistency = await proofs("consistency");
const round = (value: number, digits = 0) => Number(value.toFixed(digits));
console.log(
  JSON.stringify(
    {
      node: process.version,
      sha256Of65BytesNs: round(sha256Ns),
      leafHashNsPerEntry: round(leafNs),
      rootBuilderNsPerPush: round(pushNs),
      leafPlusPushEntriesPerSecond: round(1e9 / endToEndNs),
      appendToTilesMsPer100000: round(appendMs, 1),
      inclusionProofAt1M: {
        ...inclusion,
        meanMs: round(inclusion.meanMs, 3),
        p95Ms: round(inclusion.p95Ms, 3),
      },
      consistencyProofAt1M: {
        ...consistency,
        meanMs: round(consistency.meanMs, 3),
        p95Ms: round(consistency.p95Ms, 3),
      },
    },
    null,
    2,
  ),
);
