import { execFile } from "node:child_process";
import { mkdtemp } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  type AuditEntryRow,
  createOrganization,
  purgeOrganisationLog,
  writeAuditEntries,
} from "@auditlog/db";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestDatabase,
  createTestPool,
  prepareTestDatabase,
  testDatabaseUrl,
  uniqueSlug,
} from "@auditlog/db/testing";
import { logVerificationSchema } from "@auditlog/events";
import {
  createKeyRing,
  generateSignerKey,
  type NoteSigner,
  parseSignerKey,
  readKeyRing,
  rotateKeyRing,
} from "@auditlog/tlog";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatVerification } from "../src/cli/verify-command.ts";
import {
  type LogVerificationResult,
  verifyOrganisationLog,
} from "../src/transparency/verify-log.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
} from "./support/test-stack.ts";

const run = promisify(execFile);
const apiDir = new URL("..", import.meta.url).pathname;
const logOrigin = "auditlog.localhost";
const db = createTestDatabase();
const pool = createTestPool();
const orgIds: string[] = [];

/** Entries with every kind of field, some awkward for COPY text and for JSON. */
function variedRows(orgId: string, count: number, offset = 0): AuditEntryRow[] {
  const base = Date.parse("2026-03-01T10:00:00.000Z");
  return Array.from({ length: count }, (_, n) => {
    const i = n + offset;
    const at = new Date(base + i * 1000 + (i % 1000));
    return auditEntryRow(orgId, {
      id: `evt_${orgId.slice(-8)}_${String(i).padStart(6, "0")}`,
      type: i % 3 === 0 ? "repo.create" : "member.add",
      category: i % 3 === 0 ? "content" : "access",
      hiddenByDefault: i % 11 === 0,
      occurredAt: at,
      receivedAt: new Date(at.getTime() + 5),
      actorType: i % 5 === 0 ? "token" : "user",
      actorId: `usr_${i % 13}`,
      actorName: i % 7 === 0 ? `tab\there, new\nline \\ “quoted” ${i}` : `user ${i % 13}`,
      actorAvatarUrl: i % 4 === 0 ? `https://example.test/a/${i}.png` : null,
      actorTokenRole: i % 5 === 0 ? "write" : null,
      actorTokenLast4: i % 5 === 0 ? "ab12" : null,
      targetType: i % 6 === 0 ? null : "model",
      targetId: i % 6 === 0 ? null : `acme/model-${i}`,
      targetName: i % 6 === 0 ? null : i % 9 === 0 ? "" : `acme/model-${i}`,
      description: `entry ${i} — été ☃ 🙂`,
      ip: i % 2 === 0 ? `198.51.100.${i % 250}` : i % 3 === 0 ? "2001:db8::1" : null,
      countryCode: i % 8 === 0 ? "FR" : null,
      region: i % 8 === 0 ? "Île-de-France" : null,
      city: i % 16 === 0 ? "Paris" : null,
      userAgent: i % 3 === 1 ? "agent/1.0 (x\\y)" : null,
      oauthClientId: i % 10 === 0 ? "oauth_app" : null,
      oauthName: i % 20 === 0 ? "An App" : null,
      data:
        i % 4 === 0
          ? { n: i, nested: { z: [1, 2.5, -0, 1e21], a: "x\u2028y" }, é: true, "\t": null }
          : {},
    });
  });
}

/** An organisation whose log holds `count` entries, with a checkpoint every `every` entries. */
async function seedLog(
  count: number,
  every: number,
  options: { signer?: NoteSigner; label?: string } = {},
) {
  const org = await createOrganization(db, {
    slug: uniqueSlug(options.label ?? "verify"),
    name: "verify",
    plan: "team",
  });
  orgIds.push(org.id);
  await writeAuditEntries(db, variedRows(org.id, count));
  await buildTree(org.id, every, options.signer);
  return org;
}

async function buildTree(orgId: string, every: number, signer = testCheckpointSigner) {
  for (;;) {
    const { fromSize, treeSize } = await advanceLogTree(db, orgId, { signer, logOrigin }, every);
    if (treeSize === fromSize) return;
  }
}

function verify(orgId: string, options: { workers?: number; verifiers?: string[] } = {}) {
  return verifyOrganisationLog({
    db,
    orgId,
    verifiers: options.verifiers ?? [testCheckpointSigner.verifierKey],
    logOrigin,
    ...(options.workers === undefined ? {} : { workers: options.workers }),
  });
}

function tamper(sql: string, values: unknown[] = []) {
  return bypassingAppendOnly(pool, sql, values);
}

function firstBad(result: LogVerificationResult) {
  expect(logVerificationSchema.parse(result)).toEqual(result);
  if (result.ok) throw new Error(`expected a failure, got ${JSON.stringify(result)}`);
  return { seq: result.firstBad.seq, reason: result.firstBad.reason };
}

/** Swaps the places of two entries, as someone with the database's superuser could. */
async function swapSeqs(orgId: string, a: number, b: number) {
  await tamper(
    `UPDATE audit_entries SET seq = CASE seq WHEN $2 THEN $3 + 1000000000 ELSE $2 + 1000000000 END
     WHERE org_id = $1 AND seq IN ($2, $3)`,
    [orgId, a, b],
  );
  await tamper(
    "UPDATE audit_entries SET seq = seq - 1000000000 WHERE org_id = $1 AND seq > 1000000000",
    [orgId],
  );
}

/** Moves every entry from `from` on by `by` places (renumbering after a hand-made gap or insert). */
async function shiftSeqs(orgId: string, from: number, by: number) {
  await tamper("UPDATE audit_entries SET seq = seq + 1000000000 WHERE org_id = $1 AND seq >= $2", [
    orgId,
    from,
  ]);
  await tamper(
    "UPDATE audit_entries SET seq = seq - 1000000000 + $2 WHERE org_id = $1 AND seq > 1000000000",
    [orgId, by],
  );
}

beforeAll(() => prepareTestDatabase());
afterAll(async () => {
  for (const orgId of orgIds) await purgeOrganisationLog(db, orgId);
  await pool.end();
  await db.close();
});

describe("verifyOrganisationLog", () => {
  it("verifies an intact log with awkward values, on this thread and on hashing threads", async () => {
    const org = await createOrganization(db, {
      slug: uniqueSlug("verify-clean"),
      name: "verify",
      plan: "team",
    });
    orgIds.push(org.id);
    await writeAuditEntries(db, variedRows(org.id, 700));
    // Times with microseconds (the API shows them truncated to milliseconds, and so does the leaf).
    await tamper(
      `UPDATE audit_entries SET occurred_at = occurred_at + interval '777 microseconds',
         received_at = received_at + interval '57 microseconds'
       WHERE org_id = $1 AND seq % 3 = 0`,
      [org.id],
    );
    await buildTree(org.id, 200);
    for (const workers of [0, 2]) {
      const result = await verify(org.id, { workers });
      expect(logVerificationSchema.parse(result)).toEqual(result);
      expect(result).toMatchObject({ ok: true, treeSize: 700, logSize: 700 });
    }
  });
});

describe("verify finds the first tampered entry (PostgreSQL with the trigger bypassed)", () => {
  let org: { id: string; slug: string };
  beforeAll(async () => {
    org = await seedLog(600, 128, { label: "verify-tamper" });
    expect(await verify(org.id)).toMatchObject({ ok: true, treeSize: 600 });
  });

  // Each case changes one column of one entry, checks what verify says, and puts it back.
  const changes: [column: string, value: string, seq: number][] = [
    ["actor_name", "'mallory'", 77],
    ["data", `'{"n": 1}'::jsonb`, 4],
    ["data", "data || '{\"extra\": true}'::jsonb", 300],
    ["description", "description || '.'", 1],
    ["occurred_at", "occurred_at - interval '1 second'", 256],
    ["hidden_by_default", "NOT hidden_by_default", 257],
    ["type", "'repo.delete'", 599],
    ["actor_id", "'usr_mallory'", 600],
    ["ip", "'203.0.113.9'", 129],
    ["user_agent", "'curl/8'", 450],
    ["commit_salt", "decode('00000000000000000000000000000000', 'hex')", 12],
  ];
  it.each(changes)("a changed %s (%s) at seq %i", async (column, value, seq) => {
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE org_id = $1 AND seq = $2",
      [org.id, seq],
    );
    const id = rows[0]?.id as string;
    const { rows: before } = await tamper(
      `SELECT ${column}::text AS v FROM audit_entries WHERE org_id = $1 AND id = $2`,
      [org.id, id],
    );
    await tamper(`UPDATE audit_entries SET ${column} = ${value} WHERE org_id = $1 AND id = $2`, [
      org.id,
      id,
    ]);
    try {
      expect(firstBad(await verify(org.id))).toEqual({ seq, reason: "changed" });
    } finally {
      await tamper(
        `UPDATE audit_entries SET ${column} = $3::text::${await columnType(column)}
         WHERE org_id = $1 AND id = $2`,
        [org.id, id, before[0]?.v],
      );
    }
    expect(await verify(org.id)).toMatchObject({ ok: true, treeSize: 600 });
  });

  it("a property: one random field of one random entry changed is found at that entry", async () => {
    // Columns the leaf always commits to, whatever the rest of the row holds.
    const columns = ["actor_name", "description", "actor_id", "user_agent", "region"];
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 600 }),
        fc.constantFrom(...columns),
        fc.string({ minLength: 1, maxLength: 12 }).filter((s) => !s.includes("\u0000")),
        async (seq, column, text) => {
          const { rows } = await pool.query<{ v: string | null }>(
            `SELECT ${column} AS v FROM audit_entries WHERE org_id = $1 AND seq = $2`,
            [org.id, seq],
          );
          const old = rows[0]?.v ?? null;
          const value = old === `${text}!` ? `${text}?` : `${text}!`;
          await tamper(`UPDATE audit_entries SET ${column} = $3 WHERE org_id = $1 AND seq = $2`, [
            org.id,
            seq,
            value,
          ]);
          try {
            expect(firstBad(await verify(org.id))).toEqual({ seq, reason: "changed" });
          } finally {
            await tamper(`UPDATE audit_entries SET ${column} = $3 WHERE org_id = $1 AND seq = $2`, [
              org.id,
              seq,
              old,
            ]);
          }
        },
      ),
      { numRuns: 12 },
    );
    expect(await verify(org.id)).toMatchObject({ ok: true, treeSize: 600 });
  });
});

async function columnType(column: string): Promise<string> {
  const { rows } = await pool.query<{ t: string }>(
    `SELECT format_type(atttypid, atttypmod) AS t FROM pg_attribute
     WHERE attrelid = 'audit_entries'::regclass AND attname = $1`,
    [column],
  );
  return rows[0]?.t as string;
}

describe("verify names deleted, inserted, reordered entries, bad tiles and bad checkpoints", () => {
  const small = (label: string) => seedLog(300, 100, { label });

  it("a deleted entry, its place left empty", async () => {
    const org = await small("verify-del");
    await tamper("DELETE FROM audit_entries WHERE org_id = $1 AND seq = 150", [org.id]);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 150, reason: "deleted" });
  });

  it("a deleted entry, the later ones moved down to close the gap", async () => {
    const org = await small("verify-del-shift");
    await tamper("DELETE FROM audit_entries WHERE org_id = $1 AND seq = 42", [org.id]);
    await shiftSeqs(org.id, 43, -1);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 42, reason: "deleted" });
  });

  it("the last covered entries deleted", async () => {
    const org = await small("verify-del-end");
    await tamper("DELETE FROM audit_entries WHERE org_id = $1 AND seq > 297", [org.id]);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 298, reason: "deleted" });
  });

  it("an inserted entry, the later ones moved up to make room", async () => {
    const org = await small("verify-ins");
    await shiftSeqs(org.id, 120, 1);
    await tamper(
      `INSERT INTO audit_entries (org_id, id, type, category, hidden_by_default, occurred_at,
         received_at, actor_type, actor_id, actor_name, description, data, seq)
       SELECT org_id, id || '_forged', type, category, hidden_by_default, occurred_at, received_at,
         actor_type, actor_id, 'mallory', description, data, 120
       FROM audit_entries WHERE org_id = $1 AND seq = 121`,
      [org.id],
    );
    expect(firstBad(await verify(org.id))).toEqual({ seq: 120, reason: "inserted" });
  });

  it("an inserted entry numbered past the log's counter, beyond the checkpoints", async () => {
    const org = await small("verify-ins-end");
    await tamper(
      `INSERT INTO audit_entries (org_id, id, type, category, hidden_by_default, occurred_at,
         received_at, actor_type, actor_id, actor_name, description, data, seq)
       SELECT org_id, id || '_forged', type, category, hidden_by_default, occurred_at, received_at,
         actor_type, actor_id, 'mallory', description, data, 301
       FROM audit_entries WHERE org_id = $1 AND seq = 300`,
      [org.id],
    );
    expect(firstBad(await verify(org.id))).toEqual({ seq: 301, reason: "inserted" });
  });

  it("two swapped entries, far apart and next to each other", async () => {
    const org = await small("verify-swap");
    await swapSeqs(org.id, 30, 250);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 30, reason: "reordered" });
    await swapSeqs(org.id, 30, 250);
    expect(await verify(org.id)).toMatchObject({ ok: true });
    await swapSeqs(org.id, 200, 201);
    expect(firstBad(await verify(org.id, { workers: 2 }))).toEqual({
      seq: 200,
      reason: "reordered",
    });
  });

  it("a tampered tile (a leaf hash, then a hash of 256 leaves), the entries intact", async () => {
    const org = await small("verify-tile");
    const flip = (level: number, index: number, position: number) =>
      tamper(
        `UPDATE audit_log_tiles SET hashes = set_byte(hashes, $4, get_byte(hashes, $4) # 1)
         WHERE org_id = $1 AND level = $2 AND index = $3`,
        [org.id, level, index, position * 32 + 5],
      );
    await flip(0, 0, 99);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 100, reason: "tile" });
    await flip(0, 0, 99);
    expect(await verify(org.id)).toMatchObject({ ok: true, treeSize: 300 });
    await flip(1, 0, 0);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 1, reason: "tile" });
  });

  it("hashing threads reading their own ranges of one snapshot, in turn: found in seq order", async () => {
    // Ranges of 256 entries: many per thread, so the answers must be folded in seq order.
    const org = await seedLog(1300, 500, { label: "verify-ranges" });
    const ranged = () =>
      verifyOrganisationLog({
        db,
        orgId: org.id,
        verifiers: [testCheckpointSigner.verifierKey],
        logOrigin,
        workers: 2,
        rangeEntries: 256,
      });
    expect(await ranged()).toMatchObject({ ok: true, treeSize: 1300, logSize: 1300 });
    await tamper("UPDATE audit_entries SET city = 'Lyon' WHERE org_id = $1 AND seq = 1100", [
      org.id,
    ]);
    expect(firstBad(await ranged())).toEqual({ seq: 1100, reason: "changed" });
    // A whole range without entries.
    await tamper("DELETE FROM audit_entries WHERE org_id = $1 AND seq BETWEEN 513 AND 768", [
      org.id,
    ]);
    expect(firstBad(await ranged())).toEqual({ seq: 513, reason: "deleted" });
  }, 120_000);

  it("a tampered tile among whole tiles folded in one step (no checkpoint inside them)", async () => {
    // One checkpoint at 600: tiles 0 and 1 are whole, and verify folds them by their roots
    // once their stored leaf hashes match; a flipped one must still be found, leaf-exact.
    const org = await seedLog(600, 600, { label: "verify-tile-whole" });
    expect(await verify(org.id, { workers: 1 })).toMatchObject({ ok: true, treeSize: 600 });
    const flip = () =>
      tamper(
        `UPDATE audit_log_tiles SET hashes = set_byte(hashes, $2, get_byte(hashes, $2) # 1)
         WHERE org_id = $1 AND level = 0 AND index = 1`,
        [org.id, 10 * 32 + 7],
      );
    await flip();
    expect(firstBad(await verify(org.id, { workers: 1 }))).toEqual({ seq: 267, reason: "tile" });
    expect(firstBad(await verify(org.id))).toEqual({ seq: 267, reason: "tile" });
    await flip();
    await tamper("UPDATE audit_entries SET city = 'Lyon' WHERE org_id = $1 AND seq = 300", [
      org.id,
    ]);
    expect(firstBad(await verify(org.id, { workers: 1 }))).toEqual({ seq: 300, reason: "changed" });
  });

  it("a changed entry whose stored leaf hash was rewritten to match: the first unproven entry", async () => {
    const org = await small("verify-cover");
    await tamper("UPDATE audit_entries SET actor_name = 'x' WHERE org_id = $1 AND seq = 150", [
      org.id,
    ]);
    await tamper(
      `UPDATE audit_log_tiles SET hashes = set_byte(hashes, $2, get_byte(hashes, $2) # 1)
       WHERE org_id = $1 AND level = 0 AND index = 0`,
      [org.id, 149 * 32],
    );
    // The checkpoints say entries 101 … 200 are not as signed; the tree no longer says which.
    expect(firstBad(await verify(org.id))).toEqual({ seq: 101, reason: "changed" });
  });

  it("a checkpoint signed by a key that is not published", async () => {
    const org = await small("verify-forged");
    await writeAuditEntries(db, variedRows(org.id, 50, 300));
    await buildTree(org.id, 100, parseSignerKey(generateSignerKey(logOrigin)));
    expect(firstBad(await verify(org.id))).toEqual({ seq: 350, reason: "checkpoint" });
  });

  it("entries past the last checkpoint are not covered yet, and a hole among them is a deletion", async () => {
    const org = await small("verify-tail");
    await writeAuditEntries(db, variedRows(org.id, 20, 300));
    expect(await verify(org.id)).toEqual({
      ok: true,
      treeSize: 300,
      rootHash: expect.any(String),
      logSize: 320,
      retainedFrom: 1,
    });
    await tamper("DELETE FROM audit_entries WHERE org_id = $1 AND seq = 310", [org.id]);
    expect(firstBad(await verify(org.id))).toEqual({ seq: 310, reason: "deleted" });
  });
});

describe("key rotation", () => {
  it("checkpoints signed before a rotation still verify with the rotated ring's published keys", async () => {
    const keyFile = join(await mkdtemp(join(tmpdir(), "verify-keys-")), "checkpoint-keys");
    const first = await createKeyRing(keyFile, logOrigin);
    const org = await seedLog(200, 100, { signer: first.signer, label: "verify-rotate" });
    const rotated = await rotateKeyRing(keyFile);
    await writeAuditEntries(db, variedRows(org.id, 150, 200));
    await buildTree(org.id, 100, rotated.signer);
    const published = (await readKeyRing(keyFile)).verifiers.map((key) => key.verifierKey);
    expect(published).toHaveLength(2);
    expect(await verify(org.id, { verifiers: published })).toMatchObject({
      ok: true,
      treeSize: 350,
    });
    // Without the retired key, its checkpoints prove nothing: the first is reported.
    expect(
      firstBad(await verify(org.id, { verifiers: [rotated.signer?.verifierKey as string] })),
    ).toEqual({ seq: 100, reason: "checkpoint" });
  });
});

describe("pnpm auditlog verify and GET /v1/orgs/:org/audit-logs/verify", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    await stack.services.close();
  });

  /** The CLI as an operator runs it: its exit code and its output. */
  async function cli(...args: string[]) {
    try {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", "verify", ...args],
        {
          cwd: apiDir,
          env: { ...process.env, DATABASE_URL: testDatabaseUrl, LOG_LEVEL: "error" },
          timeout: 60_000,
        },
      );
      return { code: 0, stdout };
    } catch (error) {
      const failed = error as { code?: number; stdout?: string; stderr?: string };
      if (typeof failed.code !== "number") throw error;
      return { code: failed.code, stdout: failed.stdout ?? "", stderr: failed.stderr ?? "" };
    }
  }

  it("prints ok and exits 0 for an intact log, the first bad entry and exits 1 for a tampered one", async () => {
    const org = await seedLog(300, 100, { label: "verify-cli" });
    const clean = await cli("--org", org.slug, "--json");
    expect(clean.code).toBe(0);
    const result = logVerificationSchema.parse(JSON.parse(clean.stdout));
    expect(result).toMatchObject({ ok: true, treeSize: 300, logSize: 300 });
    expect(result).toEqual(await verify(org.id));
    expect(formatVerification(org.slug, result)).toContain(
      `the log of ${org.slug} is intact: entries 1 to 300 give the signed root ${result.ok && result.rootHash}`,
    );

    await tamper("UPDATE audit_entries SET data = '{}' WHERE org_id = $1 AND seq = 205", [org.id]);
    const bad = await cli("--org", org.slug, "--json");
    expect(bad.code).toBe(1);
    expect(JSON.parse(bad.stdout)).toMatchObject({
      ok: false,
      firstBad: { seq: 205, reason: "changed" },
    });
    const badText = await cli("--org", org.slug);
    expect(badText.code).toBe(1);
    expect(badText.stdout).toContain("is NOT intact: entry 205 was changed");
  }, 300_000);

  it("answers admins only; readers, writers, ingestion keys and strangers are refused", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "verify-route");
    orgIds.push(org.id);
    await writeAuditEntries(db, variedRows(org.id, 120));
    await buildTree(org.id, 50);
    const admin = await createMemberWithToken(org.slug, "admin");
    const path = `/v1/orgs/${org.slug}/audit-logs/verify`;

    const ok = await getJson(stack.app, path, admin.token);
    expect(ok.status).toBe(200);
    expect(logVerificationSchema.parse(ok.body)).toEqual({
      ok: true,
      treeSize: 120,
      rootHash: expect.any(String),
      logSize: 120,
      retainedFrom: 1,
    });
    for (const role of ["read", "write"] as const) {
      const member = await createMemberWithToken(org.slug, role);
      const refused = await getJson<{ error: { code: string } }>(stack.app, path, member.token);
      expect(refused.status).toBe(403);
      expect(refused.body.error.code).toBe("forbidden");
    }
    expect((await getJson(stack.app, path, apiKey)).status).toBe(401);
    expect((await getJson(stack.app, path, null)).status).toBe(401);
    const stranger = await createOrgWithKey("team", "verify-stranger");
    const outsider = await createMemberWithToken(stranger.org.slug, "admin");
    expect((await getJson(stack.app, path, outsider.token)).status).toBe(404);

    await swapSeqs(org.id, 60, 61);
    const bad = await getJson(stack.app, path, admin.token);
    expect(bad.status).toBe(200);
    expect(bad.body).toMatchObject({ ok: false, firstBad: { seq: 60, reason: "reordered" } });
  });
});
