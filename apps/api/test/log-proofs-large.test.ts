import {
  type AuditEntryRow,
  type Database,
  purgeOrganisationLog,
  writeAuditEntries,
} from "@auditlog/db";
import { auditEntryRow, createTestDatabase } from "@auditlog/db/testing";
import type {
  AuditEntry,
  CheckpointKeys,
  ConsistencyProof,
  InclusionProof,
  LogCheckpoint,
} from "@auditlog/events";
import { entryLeafHash, toBase64 } from "@auditlog/tlog";
import { GoInterop } from "@auditlog/tlog/go-interop";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkpointLines,
  expectConsistencyVerifies,
  expectInclusionVerifies,
  verifyNoteByHand,
} from "./support/log-proof-checks.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
} from "./support/test-stack.ts";

// The 1,000,000-entry organisation: seeded through the worker's own write path (COPY
// with `seq` taken under the log counter, in batches of 50,000), its tree built by the worker's
// builder in big steps (a signed checkpoint after each), then proofs from the API checked by the
// independent RFC 9162 verifier and by Go's sumdb/tlog.

const logOrigin = "auditlog.localhost";
const total = 1_000_000;
const seedBatch = 50_000;
/** Uneven first step, so checkpoints fall at sizes that are not round: 65,537, 165,537 … */
const buildSteps = [65_537, ...Array.from({ length: 10 }, () => 100_000)];

let stack: Awaited<ReturnType<typeof startTestApi>>;
let db: Database;
let go: GoInterop;
let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
let admin: string;
let keys: CheckpointKeys["keys"];
/** Each entry's id by seq − 1 (kept as strings only: 1,000,000 rows are not kept in memory). */
const ids: string[] = [];
const roots = new Map<number, string>();

const get = <T>(path: string) =>
  getJson<T>(stack.app, `/v1/orgs/${org.slug}/audit-logs${path}`, admin);

function row(i: number): AuditEntryRow {
  return auditEntryRow(org.id, {
    occurredAt: new Date(Date.UTC(2026, 0, 1) + i * 1000),
    actorId: `usr_${i % 97}`,
    actorName: `user ${i % 97}`,
    description: `large entry ${i}`,
    data: { n: i },
  });
}

beforeAll(async () => {
  stack = await startTestApi();
  db = createTestDatabase();
  go = GoInterop.start();
  org = (await createOrgWithKey("enterprise", "proofs-large")).org;
  admin = (await createMemberWithToken(org.slug, "admin")).token;
  keys = (await getJson<CheckpointKeys>(stack.app, "/v1/checkpoint-keys", null)).body.keys;

  const seedStart = performance.now();
  for (let from = 0; from < total; from += seedBatch) {
    const rows = Array.from({ length: Math.min(seedBatch, total - from) }, (_, k) => row(from + k));
    const written = await writeAuditEntries(db, rows);
    if (written !== rows.length) throw new Error(`wrote ${written} of ${rows.length} rows`);
    for (const r of rows) ids.push(r.id);
  }
  const seedSeconds = (performance.now() - seedStart) / 1000;

  const buildStart = performance.now();
  for (const step of buildSteps) {
    const { fromSize, treeSize } = await advanceLogTree(
      db,
      org.id,
      { signer: testCheckpointSigner, logOrigin },
      step,
    );
    if (treeSize !== Math.min(total, fromSize + step)) {
      throw new Error(`the tree went from ${fromSize} to ${treeSize}, not by ${step}`);
    }
  }
  const buildSeconds = (performance.now() - buildStart) / 1000;
  console.log(
    `1,000,000-entry organisation: seeded in ${seedSeconds.toFixed(1)} s ` +
      `(writeAuditEntries, COPY batches of ${seedBatch}), tree built and signed in ` +
      `${buildSeconds.toFixed(1)} s (advanceLogTree, ${buildSteps.length} steps)`,
  );
}, 1_800_000);

afterAll(async () => {
  if (org) await purgeOrganisationLog(db, org.id);
  await go?.close();
  await db?.close();
  await stack?.services.close();
}, 600_000);

describe("a 1,000,000-entry organisation", () => {
  const checkpointSizes = buildSteps.reduce<number[]>(
    (sizes, step) => [...sizes, Math.min(total, (sizes.at(-1) ?? 0) + step)],
    [],
  );

  it("has a signed checkpoint after every build step, verified by hand", async () => {
    expect(checkpointSizes.at(-1)).toBe(total);
    for (const size of checkpointSizes) {
      const { status, body } = await get<LogCheckpoint>(`/checkpoint?treeSize=${size}`);
      expect(status, `checkpoint ${size}`).toBe(200);
      const { text } = verifyNoteByHand(body.note, keys);
      expect(checkpointLines(text)).toEqual({
        origin: `${logOrigin}/orgs/${org.id}`,
        size,
        root: body.rootHash,
      });
      roots.set(size, body.rootHash);
    }
    const latest = await get<LogCheckpoint>("/checkpoint");
    expect(latest.body.treeSize).toBe(total);
  });

  it("proves the inclusion of the first, the last, powers of two and random entries", async () => {
    expect(roots.get(total)).toBeDefined();
    const sample = new Set([0, 1, 255, 256, 65_535, 65_536, 65_537, total - 2, total - 1]);
    for (let p = 1; p < total; p *= 2) sample.add(p - 1).add(p);
    while (sample.size < 70) sample.add(Math.floor(Math.random() * total));
    const middle = checkpointSizes[4] as number;
    for (const i of [...sample].filter((i) => i < total).sort((a, b) => a - b)) {
      const id = ids[i] as string;
      // The leaf hash, from the entry as the API returns it: the proof is about this entry.
      const entry = await get<AuditEntry>(`/${id}`);
      expect(entry.status).toBe(200);
      const leafHash = toBase64(entryLeafHash(org.id, entry.body));
      for (const size of i < middle ? [total, middle] : [total]) {
        const { status, body } = await get<InclusionProof>(
          size === total ? `/${id}/proof` : `/${id}/proof?treeSize=${size}`,
        );
        expect(status, `proof of ${i} in ${size}`).toBe(200);
        expect(body).toMatchObject({ leafIndex: i, treeSize: size, leafHash });
        await expectInclusionVerifies(go, body, roots.get(size) as string);
      }
    }
  }, 300_000);

  it("proves consistency between its checkpoints", async () => {
    expect(roots.get(total)).toBeDefined();
    const pairs = checkpointSizes.flatMap((size, k) => [
      ...(k > 0 ? [[checkpointSizes[k - 1] as number, size] as const] : []),
      [size, total] as const,
    ]);
    for (const [from, to] of pairs) {
      const { status, body } = await get<ConsistencyProof>(`/consistency?from=${from}&to=${to}`);
      expect(status, `consistency ${from} → ${to}`).toBe(200);
      await expectConsistencyVerifies(go, body, roots.get(from) as string, roots.get(to) as string);
    }
  }, 300_000);
});
