import {
  type Database,
  insertAuditEntries,
  purgeOrganisationLog,
  readEntriesBySeq,
} from "@auditlog/db";
import { auditEntryRow, createTestDatabase } from "@auditlog/db/testing";
import {
  type CheckpointKeys,
  type ConsistencyProof,
  checkpointKeysSchema,
  consistencyProofSchema,
  type InclusionProof,
  inclusionProofSchema,
  type LogCheckpoint,
  logCheckpointSchema,
} from "@auditlog/events";
import { entryLeafHash } from "@auditlog/tlog";
import { GoInterop } from "@auditlog/tlog/go-interop";
import { ReferenceTree } from "@auditlog/tlog/rfc9162";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  b64,
  checkpointLines,
  expectConsistencyVerifies,
  expectInclusionVerifies,
  inParallel,
  verifyNoteByHand,
} from "./support/log-proof-checks.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
} from "./support/test-stack.ts";

// The verifiable log's read routes against the real API and database, checked with code that is
// not the code under test: notes by hand with node:crypto and by Go's sumdb/note, proofs by the
// independent RFC 9162 verifier and by Go's sumdb/tlog.

const logOrigin = "auditlog.localhost";
const signing = { signer: testCheckpointSigner, logOrigin };
/** Checkpoints at every size from 1 to this: the "tree sizes 1 … 1,000". */
const grownSize = 1000;

interface ErrorJson {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

let stack: Awaited<ReturnType<typeof startTestApi>>;
let db: Database;
let go: GoInterop;

beforeAll(async () => {
  // Thousands of reads by one admin: the per-person quota is not what is tested here.
  stack = await startTestApi({ USER_RATE_LIMIT: "1000000" });
  db = createTestDatabase();
  go = GoInterop.start();
}, 120_000);

afterAll(async () => {
  await go?.close();
  await db?.close();
  await stack?.services.close();
});

/** Appends `count` entries to the organisation's log, one transaction each. */
async function appendEntries(orgId: string, count: number, label = "grown"): Promise<string[]> {
  const ids: string[] = [];
  for (let i = 0; i < count; i++) {
    const row = auditEntryRow(orgId, {
      description: `${label} entry ${i}`,
      actorName: `user ${i % 13}`,
      data: { n: i },
    });
    await insertAuditEntries(db, [row]);
    ids.push(row.id);
  }
  return ids;
}

describe("GET /v1/checkpoint-keys", () => {
  it("publishes the key file's public keys to anyone, in the contract's shape", async () => {
    const { status, body, response } = await getJson<CheckpointKeys>(
      stack.app,
      "/v1/checkpoint-keys",
      null,
    );
    expect(status).toBe(200);
    expect(checkpointKeysSchema.parse(body)).toEqual(body);
    expect(response.headers.get("cache-control")).toBe("no-cache");
    expect(body.keys).toEqual([
      {
        name: testCheckpointSigner.name,
        keyId: testCheckpointSigner.keyId,
        algorithm: "Ed25519",
        publicKey: b64(testCheckpointSigner.publicKey),
        verifierKey: testCheckpointSigner.verifierKey,
        active: true,
      },
    ]);
    expect(Buffer.from(body.keys[0]?.publicKey ?? "", "base64")).toHaveLength(32);
    // Public parts only: nothing of the signing key's file line leaves the API.
    expect(JSON.stringify(body)).not.toContain("PRIVATE");
  });
});

describe("checkpoints and proofs of an organisation grown one entry at a time", () => {
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let ids: string[];
  let keys: CheckpointKeys["keys"];
  /** roots[n]: the signed root of the tree of n leaves, from the API's checkpoint. */
  const roots: string[] = [];
  let reference: ReferenceTree;

  const get = <T>(path: string) =>
    getJson<T>(stack.app, `/v1/orgs/${org.slug}/audit-logs${path}`, admin);

  beforeAll(async () => {
    org = (await createOrgWithKey("team", "proofs")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    ids = [];
    for (let n = 1; n <= grownSize; n++) {
      ids.push(...(await appendEntries(org.id, 1)));
      const advanced = await advanceLogTree(db, org.id, signing);
      if (advanced.treeSize !== n)
        throw new Error(`the tree reached ${advanced.treeSize}, not ${n}`);
    }
    keys = (await getJson<CheckpointKeys>(stack.app, "/v1/checkpoint-keys", null)).body.keys;
    // The leaves, independently: each stored entry's leaf hash, folded by the reference tree.
    const entries = await readEntriesBySeq(db, org.id, 1, grownSize);
    expect(entries.map((e) => e.id)).toEqual(ids);
    reference = new ReferenceTree(entries.map((entry) => entryLeafHash(org.id, entry)));
  }, 300_000);

  afterAll(() => purgeOrganisationLog(db, org.id));

  it("serves a signed checkpoint at every size, each verified by hand, by Go and by the reference tree", async () => {
    const sizes = Array.from({ length: grownSize }, (_, i) => i + 1);
    await inParallel(sizes, 4, async (n) => {
      const { status, body } = await get<LogCheckpoint>(`/checkpoint?treeSize=${n}`);
      expect(status, `checkpoint ${n}`).toBe(200);
      expect(logCheckpointSchema.parse(body)).toEqual(body);
      const { text, verifiedBy } = verifyNoteByHand(body.note, keys);
      expect(verifiedBy).toEqual([
        { name: testCheckpointSigner.name, keyId: testCheckpointSigner.keyId },
      ]);
      expect(checkpointLines(text)).toEqual({
        origin: `${logOrigin}/orgs/${org.id}`,
        size: n,
        root: body.rootHash,
      });
      expect(body.treeSize).toBe(n);
      expect(body.rootHash).toBe(b64(reference.root(n)));
      const opened = await go.ok({
        op: "open",
        note: body.note,
        keys: keys.map((k) => k.verifierKey),
      });
      expect(opened.text).toBe(text);
      expect(opened.sigs).toEqual([{ name: testCheckpointSigner.name, keyId: keys[0]?.keyId }]);
      roots[n] = body.rootHash;
    });
    const latest = await get<LogCheckpoint>("/checkpoint");
    expect(latest.status).toBe(200);
    expect(latest.body.treeSize).toBe(grownSize);
    expect(latest.body.rootHash).toBe(roots[grownSize]);
  }, 300_000);

  it("proves every entry's inclusion in the latest tree", async () => {
    expect(roots[grownSize]).toBeDefined();
    await inParallel(
      ids.map((id, i) => ({ id, i })),
      4,
      async ({ id, i }) => {
        const { status, body } = await get<InclusionProof>(`/${id}/proof`);
        expect(status, `proof of ${id}`).toBe(200);
        expect(inclusionProofSchema.parse(body)).toEqual(body);
        expect(body.leafIndex).toBe(i);
        expect(body.treeSize).toBe(grownSize);
        expect(body.leafHash).toBe(b64(reference.mth(i, i + 1)));
        expect(body.proof).toEqual(reference.path(i, grownSize).map(b64));
        await expectInclusionVerifies(go, body, roots[grownSize] as string);
      },
    );
  }, 300_000);

  it("proves inclusion at every tree size: the newest entry, the first and one at random", async () => {
    expect(roots[grownSize]).toBeDefined();
    const cases = Array.from({ length: grownSize }, (_, k) => k + 1).flatMap((n) => [
      { n, i: n - 1 },
      { n, i: 0 },
      { n, i: Math.floor(Math.random() * n) },
    ]);
    await inParallel(cases, 4, async ({ n, i }) => {
      const { status, body } = await get<InclusionProof>(`/${ids[i]}/proof?treeSize=${n}`);
      expect(status, `proof of leaf ${i} in ${n}`).toBe(200);
      expect(body).toMatchObject({ leafIndex: i, treeSize: n });
      expect(body.proof).toEqual(reference.path(i, n).map(b64));
      await expectInclusionVerifies(go, body, roots[n] as string);
    });
  }, 300_000);

  it("proves consistency between many pairs of checkpoints", async () => {
    expect(roots[grownSize]).toBeDefined();
    const pairs = Array.from({ length: grownSize }, (_, k) => k + 1).flatMap((n) => [
      ...(n > 1 ? [{ m: n - 1, n }] : []),
      { m: 1, n },
      { m: 1 + Math.floor(Math.random() * n), n },
      { m: n, n: grownSize },
    ]);
    await inParallel(pairs, 4, async ({ m, n }) => {
      const { status, body } = await get<ConsistencyProof>(`/consistency?from=${m}&to=${n}`);
      expect(status, `consistency ${m} → ${n}`).toBe(200);
      expect(consistencyProofSchema.parse(body)).toEqual(body);
      expect(body).toMatchObject({ fromSize: m, toSize: n });
      expect(body.proof).toEqual(reference.proof(m, n).map(b64));
      await expectConsistencyVerifies(go, body, roots[m] as string, roots[n] as string);
    });
  }, 300_000);

  it("answers the entry routes as before, next to the proof routes", async () => {
    const { status, body } = await get<{ id: string }>(`/${ids[0]}`);
    expect(status).toBe(200);
    expect(body.id).toBe(ids[0]);
  });
});

describe("bad requests, missing checkpoints and access", () => {
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let ids: string[];
  let pending: string;

  const get = <T = ErrorJson>(path: string, token: string | null = admin, slug = org.slug) =>
    getJson<T>(stack.app, `/v1/orgs/${slug}/audit-logs${path}`, token);

  const expectError = async (
    path: string,
    status: number,
    code: string,
    field?: string,
  ): Promise<ErrorJson> => {
    const answer = await get(path);
    expect(answer.status, path).toBe(status);
    expect(answer.body.error.code, path).toBe(code);
    if (field !== undefined) {
      expect(
        answer.body.error.details?.map((d) => d.path),
        path,
      ).toEqual([field]);
    }
    return answer.body;
  };

  beforeAll(async () => {
    org = (await createOrgWithKey("team", "proofs-bad")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    ids = await appendEntries(org.id, 3, "bad");
  });

  afterAll(() => purgeOrganisationLog(db, org.id));

  it("answers 404 while the log has no checkpoint, 404 for a proof too", async () => {
    const body = await expectError("/checkpoint", 404, "not_found");
    expect(body.error.message).toMatch(/no checkpoint yet/);
    await expectError(`/${ids[0]}/proof`, 404, "not_found");
    // Signed from here on: sizes 3 and 5 have checkpoints, 4 has none.
    await advanceLogTree(db, org.id, signing);
    ids.push(...(await appendEntries(org.id, 2, "bad")));
    await advanceLogTree(db, org.id, signing);
    pending = (await appendEntries(org.id, 1, "bad"))[0] as string;
  });

  it("names the field of a bad or missing size", async () => {
    expect(pending).toBeDefined();
    for (const bad of ["abc", "0", "-1", "1.5", "1e3", "9999999999999999"]) {
      await expectError(`/checkpoint?treeSize=${bad}`, 400, "bad_request", "treeSize");
      await expectError(`/${ids[0]}/proof?treeSize=${bad}`, 400, "bad_request", "treeSize");
      await expectError(`/consistency?from=${bad}&to=5`, 400, "bad_request", "from");
      await expectError(`/consistency?from=3&to=${bad}`, 400, "bad_request", "to");
    }
    await expectError("/consistency?to=5", 400, "bad_request", "from");
    await expectError("/consistency?from=3", 400, "bad_request", "to");
    await expectError("/consistency", 400, "bad_request", "from");
    const after = await expectError("/consistency?from=5&to=3", 400, "bad_request", "from");
    expect(after.error.details?.[0]?.message).toMatch(/at most to/);
  });

  it("serves only sizes that have a signed checkpoint", async () => {
    expect(pending).toBeDefined();
    const body = await expectError("/checkpoint?treeSize=4", 404, "not_found", "treeSize");
    expect(body.error.message).toContain("treeSize=4");
    await expectError("/checkpoint?treeSize=6", 404, "not_found", "treeSize");
    await expectError("/consistency?from=4&to=5", 404, "not_found", "from");
    await expectError("/consistency?from=3&to=4", 404, "not_found", "to");
    await expectError(`/${ids[0]}/proof?treeSize=4`, 404, "not_found", "treeSize");
    expect((await get<LogCheckpoint>("/checkpoint?treeSize=3")).status).toBe(200);
    expect((await get<ConsistencyProof>("/consistency?from=3&to=5")).status).toBe(200);
    expect((await get<ConsistencyProof>("/consistency?from=5&to=5")).body.proof).toEqual([]);
  });

  it("answers 404 for an unknown entry and 409 for one not yet in the tree", async () => {
    expect(pending).toBeDefined();
    await expectError("/evt_doesnotexist/proof", 404, "not_found");
    const notYet = await expectError(`/${pending}/proof`, 409, "conflict", "treeSize");
    expect(notYet.error.message).toMatch(/seq 6.*tree size 5.*retry/);
    const tooSmall = await expectError(`/${ids[4]}/proof?treeSize=3`, 409, "conflict", "treeSize");
    expect(tooSmall.error.message).toMatch(/seq 5.*size 3/);
    const proved = await get<InclusionProof>(`/${ids[4]}/proof?treeSize=5`);
    expect(proved.status).toBe(200);
    expect(proved.body).toMatchObject({ leafIndex: 4, treeSize: 5 });
  });

  it("lets in the organisation's admins only, as the list API does", async () => {
    expect(pending).toBeDefined();
    const paths = ["/checkpoint", "/consistency?from=3&to=5", `/${ids[0]}/proof`];
    const other = (await createOrgWithKey("team", "proofs-other")).org;
    const otherAdmin = (await createMemberWithToken(other.slug, "admin")).token;
    const reader = (await createMemberWithToken(org.slug, "read")).token;
    for (const path of paths) {
      expect((await get(path, null)).status, path).toBe(401);
      expect((await get(path, "alp_not-a-real-token")).status, path).toBe(401);
      const outsider = await get(path, otherAdmin);
      expect(outsider.status, path).toBe(404);
      expect(outsider.body.error.message).toBe("organization not found");
      expect((await get(path, reader)).status, path).toBe(403);
      // The other organisation's admin reading their own log learns nothing of this one's.
      expect((await get(path, otherAdmin, other.slug)).status, path).toBe(404);
      expect((await get(path, admin)).status, path).toBe(200);
    }
    // The entry routes answer the same way: their guard is unchanged.
    expect((await get(`/${ids[0]}`, null)).status).toBe(401);
  });
});
