import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { gunzipSync } from "node:zlib";
import {
  type AuditEntryRow,
  type Database,
  purgeOrganisationLog,
  upsertUserMembership,
  writeAuditEntries,
} from "@auditlog/db";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestDatabase,
  createTestPool,
  testDatabaseUrl,
} from "@auditlog/db/testing";
import {
  type AuditEntry,
  type AuditExport,
  type ConsistencyProof,
  type Erasure,
  erasureSchema,
  exportManifestSchema,
  type InclusionProof,
  type LogCheckpoint,
} from "@auditlog/events";
import { verifyExportFile } from "@auditlog/exports";
import { entryLeafHash } from "@auditlog/tlog";
import { GoInterop } from "@auditlog/tlog/go-interop";
import { ReferenceTree } from "@auditlog/tlog/rfc9162";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree, type startWorker } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { verifyOrganisationLog } from "../src/transparency/verify-log.ts";
import {
  b64,
  expectConsistencyVerifies,
  expectInclusionVerifies,
} from "./support/log-proof-checks.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

// Erasure (issue 16) on the real stack: after it, the API, a new export and a pg_dump of the
// database hold none of the person's name, avatar URL or user agent, while every proof and
// `verify` still pass, and tampering with what the leaf holds in clear is still found.

const run = promisify(execFile);
const apiDir = new URL("..", import.meta.url).pathname;
const logOrigin = "auditlog.localhost";
const signing = { signer: testCheckpointSigner, logOrigin };

type Stack = Awaited<ReturnType<typeof startTestApi>>;
let stack: Stack;
let worker: Awaited<ReturnType<typeof startWorker>>;
let db: Database;
let go: GoInterop;
const pool = createTestPool();
let dir: string;

beforeAll(async () => {
  stack = await startTestApi({ USER_RATE_LIMIT: "1000000" });
  worker = await startTestWorker(stack);
  db = createTestDatabase();
  go = GoInterop.start();
  dir = await mkdtemp(join(tmpdir(), "auditlog-erasure-"));
}, 120_000);

afterAll(async () => {
  await worker?.stop();
  await go?.close();
  await db?.close();
  await pool.end();
  await stack?.services.close();
  await rm(dir, { recursive: true, force: true });
});

/** A person as the Hub sends them, with values found nowhere else in the database. */
function person(label: string) {
  const unique = randomBytes(6).toString("hex");
  return {
    id: `usr_${label}_${unique}`,
    name: `${label}-${unique}`,
    avatarUrl: `https://avatars.example.test/${unique}/${label}.png`,
    userAgent: `${label}Agent/${unique} (erasure test)`,
  };
}
type Person = ReturnType<typeof person>;

function by(p: Person, overrides: Partial<AuditEntryRow>, orgId: string): AuditEntryRow {
  return auditEntryRow(orgId, {
    actorId: p.id,
    actorName: p.name,
    actorAvatarUrl: p.avatarUrl,
    userAgent: p.userAgent,
    ip: "198.51.100.0",
    countryCode: "FR",
    city: "Paris",
    ...overrides,
  });
}

/** The org's entries: the person as actor, as target, and named in others' data. */
function entriesOf(orgId: string, alice: Person, bruno: Person, carol: Person): AuditEntryRow[] {
  return [
    by(
      alice,
      {
        type: "repo.create",
        description: `${alice.name} created model acme/bert`,
        data: { repo: { type: "model", name: "acme/bert" } },
        targetType: "model",
        targetId: "acme/bert",
        targetName: "acme/bert",
      },
      orgId,
    ),
    by(
      alice,
      {
        type: "org.invite_user",
        category: "membership",
        description: `${alice.name} invited dave`,
        data: { user: "dave" },
      },
      orgId,
    ),
    by(
      bruno,
      {
        type: "org.invite_user",
        category: "membership",
        description: `${bruno.name} invited ${alice.name}`,
        data: { user: alice.name },
      },
      orgId,
    ),
    by(
      carol,
      {
        type: "org.change_role",
        category: "membership",
        targetType: "user",
        targetId: alice.id,
        targetName: alice.name,
        description: `${carol.name} changed ${alice.name}'s role from read to write`,
        data: { user: alice.name, oldRole: "read", newRole: "write" },
      },
      orgId,
    ),
    by(
      carol,
      {
        type: "org.audit_log.export",
        category: "audit_log",
        hiddenByDefault: true,
        description: `${carol.name} exported the audit log matching "actor:${alice.name}"`,
        data: { query: `actor:${alice.name}`, format: "ndjson" },
      },
      orgId,
    ),
    by(
      bruno,
      {
        type: "repo.create",
        description: `${bruno.name} created model acme/gpt`,
        data: { repo: { type: "model", name: "acme/gpt" } },
      },
      orgId,
    ),
    by(
      alice,
      {
        type: "resource_group.add_users",
        category: "resource_group",
        description: `${alice.name} added ${bruno.name} as write to research`,
        data: { resourceGroup: "research", users: [{ user: bruno.name, role: "write" }] },
      },
      orgId,
    ),
  ];
}

async function pgDump(): Promise<string> {
  const { stdout } = await run("pg_dump", ["--data-only", "--dbname", testDatabaseUrl], {
    maxBuffer: 1024 * 1024 * 1024,
  });
  return stdout;
}

function expectNoneOf(text: string, p: Person, where: string) {
  for (const value of [p.name, p.avatarUrl, p.userAgent]) {
    expect(text.includes(value), `${where} holds ${value}`).toBe(false);
  }
}

function expectAllOf(text: string, p: Person, where: string) {
  for (const value of [p.name, p.avatarUrl, p.userAgent]) {
    expect(text.includes(value), `${where} lacks ${value}`).toBe(true);
  }
}

function api(
  path: string,
  token: string | null,
  init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
) {
  return stack.app.request(path, {
    method: init.method ?? "GET",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
      ...init.headers,
    },
    ...(init.body !== undefined
      ? { body: typeof init.body === "string" ? init.body : JSON.stringify(init.body) }
      : {}),
  });
}

async function exportNow(
  slug: string,
  token: string,
  format: "ndjson" | "csv" = "ndjson",
): Promise<AuditExport> {
  const response = await api(`/v1/orgs/${slug}/exports`, token, {
    method: "POST",
    body: { format, filters: { includeHidden: true } },
  });
  expect(response.status).toBe(202);
  const { id } = (await response.json()) as AuditExport;
  return waitFor(
    async () =>
      (await getJson<AuditExport>(stack.app, `/v1/orgs/${slug}/exports/${id}`, token)).body,
    (e) => e.status !== "queued" && e.status !== "running",
    120_000,
  );
}

async function downloadExport(slug: string, token: string, done: AuditExport) {
  expect(done.status).toBe("ready");
  const response = await api(`/v1/orgs/${slug}/exports/${done.id}/download`, token);
  expect(response.status).toBe(200);
  const gz = Buffer.from(await response.arrayBuffer());
  const file = join(dir, `${done.id}.${done.format}.gz`);
  await writeFile(file, gz);
  return { file, text: gunzipSync(gz).toString("utf8") };
}

/** Every entry of the organisation through the feed (ascending, hidden ones too). */
async function feed(slug: string, token: string): Promise<AuditEntry[]> {
  const { status, body } = await getJson<{ entries: AuditEntry[] }>(
    stack.app,
    `/v1/orgs/${slug}/audit-logs/feed?after=0&limit=1000`,
    token,
  );
  expect(status).toBe(200);
  return body.entries;
}

async function checkpoint(slug: string, token: string): Promise<LogCheckpoint> {
  const { status, body } = await getJson<LogCheckpoint>(
    stack.app,
    `/v1/orgs/${slug}/audit-logs/checkpoint`,
    token,
  );
  expect(status).toBe(200);
  return body;
}

/** Builds and signs the tree up to the whole log (the test stack's worker has no signer). */
async function signAll(orgId: string): Promise<void> {
  const deadline = Date.now() + 60_000;
  for (;;) {
    const advanced = await advanceLogTree(db, orgId, signing, 100_000);
    const size = await feedSize(orgId);
    if (advanced.treeSize === size) return;
    if (Date.now() > deadline) {
      throw new Error(`the tree reached ${advanced.treeSize} of ${size} entries within 60 s`);
    }
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function feedSize(orgId: string): Promise<number> {
  const { rows } = await pool.query<{ n: number }>(
    "SELECT count(*)::int AS n FROM audit_entries WHERE org_id = $1",
    [orgId],
  );
  return rows[0]?.n ?? 0;
}

describe("erasing a person from an organisation's log", () => {
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  const alice = person("alice");
  const bruno = person("bruno");
  const carol = person("carol");
  let before: LogCheckpoint;
  let beforeLeaves: Uint8Array[];
  let oldExport: AuditExport;
  let first: Erasure;

  beforeAll(async () => {
    org = (await createOrgWithKey("team", "erasure")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    await writeAuditEntries(db, entriesOf(org.id, alice, bruno, carol));
    // A refused event of Alice's, kept raw as a dead letter.
    await pool.query(
      `INSERT INTO dead_letters (org_id, dedupe_key, reason, payload, received_at)
       VALUES ($1, $2, 'invalid', $3, now())`,
      [
        org.id,
        `dl-${alice.id}`,
        JSON.stringify({
          actor: { id: alice.id, name: alice.name, avatarUrl: alice.avatarUrl },
          context: { userAgent: alice.userAgent },
        }),
      ],
    );
    await signAll(org.id);
    before = await checkpoint(org.slug, admin);
    beforeLeaves = (await feed(org.slug, admin)).map((entry) => entryLeafHash(org.id, entry));
    expect(b64(new ReferenceTree(beforeLeaves).root(before.treeSize))).toBe(before.rootHash);
    oldExport = await exportNow(org.slug, admin);
    expect((await downloadExport(org.slug, admin, oldExport)).text).toContain(alice.name);
  }, 300_000);

  afterAll(() => purgeOrganisationLog(db, org.id));

  it("finds the person's name, avatar URL and user agent in a pg_dump before", async () => {
    const dump = await pgDump();
    expectAllOf(dump, alice, "pg_dump before the erasure");
    expectAllOf(dump, bruno, "pg_dump before the erasure");
  }, 120_000);

  it("answers the erasure record, and the API, a new export and pg_dump no longer hold them", async () => {
    const response = await api(`/v1/orgs/${org.slug}/erasures`, admin, {
      method: "POST",
      body: { actorId: alice.id },
    });
    expect(response.status).toBe(201);
    first = erasureSchema.parse(await response.json());
    expect(first).toMatchObject({
      actorId: alice.id,
      status: "completed",
      entries: 6,
      deadLetters: 1,
      exportsDeleted: 1,
    });
    expect(first.id).toMatch(/^era_[0-9a-f]{24}$/);
    expect(first.pseudonym).toMatch(/^erased-[0-9a-f]{16}$/);

    const entries = await feed(org.slug, admin);
    expectNoneOf(JSON.stringify(entries), alice, "the feed");
    const list = await getJson(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs?includeHidden=true&limit=100`,
      admin,
    );
    expect(list.status).toBe(200);
    expectNoneOf(JSON.stringify(list.body), alice, "the list");
    for (const entry of entries) {
      const detail = await getJson(stack.app, `/v1/orgs/${org.slug}/audit-logs/${entry.id}`, admin);
      expect(detail.status).toBe(200);
      expectNoneOf(JSON.stringify(detail.body), alice, `entry ${entry.id}`);
    }
    // Someone still did each thing, under one pseudonym; others' names stay.
    const aliceEntries = entries.filter((e) => e.actor.id === alice.id);
    expect(aliceEntries).toHaveLength(3);
    for (const entry of aliceEntries) {
      expect(entry.actor).toMatchObject({ name: first.pseudonym, avatarUrl: null });
      expect(entry.userAgent).toBeNull();
      expect(entry.description.startsWith(`${first.pseudonym} `)).toBe(true);
      expect(entry.commitment).toEqual({ personal: expect.any(String) });
    }
    const roleChange = entries.find((e) => e.type === "org.change_role");
    expect(roleChange?.target?.name).toBe(first.pseudonym);
    expect(roleChange?.data.user).toBe(first.pseudonym);
    expect(roleChange?.description).toBe(
      `${carol.name} changed ${first.pseudonym}'s role from read to write`,
    );
    expect(roleChange?.userAgent).toBe(carol.userAgent);
    expect(JSON.stringify(entries)).toContain(bruno.name);
    // The untouched entry keeps its salt.
    expect(entries.find((e) => e.description.includes("acme/gpt"))?.commitment).toEqual({
      salt: expect.any(String),
    });

    // The old export's file is gone and its record says why.
    const old = await getJson<AuditExport>(
      stack.app,
      `/v1/orgs/${org.slug}/exports/${oldExport.id}`,
      admin,
    );
    expect(old.body.status).toBe("expired");
    expect(old.body.error).toContain(first.id);
    const { rows: oldRows } = await pool.query<{ storage_key: string }>(
      "SELECT storage_key FROM exports WHERE id = $1",
      [oldExport.id],
    );
    expect(oldRows[0]?.storage_key).toBeTruthy();
    expect(await stack.services.exportStorage.stat(oldRows[0]?.storage_key as string)).toBeNull();
    const gone = await api(`/v1/orgs/${org.slug}/exports/${oldExport.id}/download`, admin);
    expect(gone.status).toBeGreaterThanOrEqual(400);

    // The erasure is on the record, without the erased values.
    const recorded = await waitFor(
      async () => (await feed(org.slug, admin)).find((e) => e.type === "org.audit_log.erase"),
      (e) => e !== undefined,
      60_000,
    );
    expect(recorded?.data).toEqual({ erasureId: first.id, pseudonym: first.pseudonym, entries: 6 });

    // New exports hold the pseudonym only, and verify offline, erased entries included.
    for (const format of ["ndjson", "csv"] as const) {
      const fresh = await exportNow(org.slug, admin, format);
      const { file, text } = await downloadExport(org.slug, admin, fresh);
      expectNoneOf(text, alice, `a new ${format} export`);
      expect(text).toContain(first.pseudonym);
      const verified = await verifyExportFile({
        file,
        manifest: exportManifestSchema.parse(fresh.manifest),
        verifiers: [testCheckpointSigner.verifierKey],
      });
      expect(verified.errors, format).toEqual([]);
      expect(verified).toMatchObject({ ok: true, checks: { entries: "ok", root: "ok" } });
    }

    const dump = await pgDump();
    expectNoneOf(dump, alice, "pg_dump after the erasure");
    expectAllOf(dump, bruno, "pg_dump after the erasure");
  }, 300_000);

  it("keeps every inclusion proof, the consistency proof from before, and verify passing", async () => {
    await signAll(org.id);
    const after = await checkpoint(org.slug, admin);
    expect(after.treeSize).toBeGreaterThan(before.treeSize);
    const entries = await feed(org.slug, admin);
    // The leaves, recomputed independently from what the API now answers.
    const leaves = entries.map((entry) => entryLeafHash(org.id, entry));
    expect(leaves.slice(0, before.treeSize).map(b64)).toEqual(beforeLeaves.map(b64));
    const reference = new ReferenceTree(leaves);
    expect(b64(reference.root(after.treeSize))).toBe(after.rootHash);
    for (const [i, entry] of entries.slice(0, after.treeSize).entries()) {
      const { status, body } = await getJson<InclusionProof>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs/${entry.id}/proof`,
        admin,
      );
      expect(status).toBe(200);
      expect(body.leafHash).toBe(b64(leaves[i] as Uint8Array));
      await expectInclusionVerifies(go, body, after.rootHash);
    }
    const consistency = await getJson<ConsistencyProof>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs/consistency?from=${before.treeSize}&to=${after.treeSize}`,
      admin,
    );
    expect(consistency.status).toBe(200);
    await expectConsistencyVerifies(go, consistency.body, before.rootHash, after.rootHash);
    const verified = await verifyOrganisationLog({
      db,
      orgId: org.id,
      verifiers: [testCheckpointSigner.verifierKey],
      logOrigin,
    });
    expect(verified).toMatchObject({ ok: true, treeSize: after.treeSize });
  }, 300_000);

  it("gives the same person the same pseudonym in a second erasure, and another person another, by the CLI", async () => {
    // Alice appears again after her erasure (the platform still sends her name).
    await writeAuditEntries(db, [
      by(
        alice,
        {
          type: "repo.delete",
          description: `${alice.name} deleted model acme/bert`,
          data: { repo: { type: "model", name: "acme/bert" } },
        },
        org.id,
      ),
    ]);
    const cli = async (actorId: string) => {
      const { stdout } = await run(
        process.execPath,
        [
          "--import",
          "tsx",
          "src/cli/main.ts",
          "erase",
          "--org",
          org.slug,
          "--actor",
          actorId,
          "--json",
        ],
        {
          cwd: apiDir,
          env: {
            ...process.env,
            DATABASE_URL: testDatabaseUrl,
            LOG_LEVEL: "error",
            INGEST_QUEUE: stack.queueName,
            EXPORT_QUEUE: stack.exportQueueName,
            EXPORT_STORAGE_DIR: stack.env.EXPORT_STORAGE_DIR,
          },
        },
      );
      return erasureSchema.parse(JSON.parse(stdout));
    };
    const again = await cli(alice.id);
    expect(again.pseudonym).toBe(first.pseudonym);
    expect(again.entries).toBe(1);
    const brunoErased = await cli(bruno.id);
    expect(brunoErased.pseudonym).not.toBe(first.pseudonym);
    expect(brunoErased.pseudonym).toMatch(/^erased-[0-9a-f]{16}$/);
    const entries = await feed(org.slug, admin);
    expect(entries.filter((e) => e.actor.id === alice.id).map((e) => e.actor.name)).toEqual(
      Array(4).fill(first.pseudonym),
    );
    // Bruno named in Alice's entry's data is his pseudonym now.
    const added = entries.find((e) => e.type === "resource_group.add_users");
    expect(added?.data.users).toEqual([{ user: brunoErased.pseudonym, role: "write" }]);
    expect(added?.description).toContain(
      `${first.pseudonym} added ${brunoErased.pseudonym} as write`,
    );
    const dump = await pgDump();
    expectNoneOf(dump, alice, "pg_dump after the second erasure");
    expectNoneOf(dump, bruno, "pg_dump after Bruno's erasure");
    const listed = await getJson<{ erasures: Erasure[] }>(
      stack.app,
      `/v1/orgs/${org.slug}/erasures`,
      admin,
    );
    expect(listed.body.erasures.map((e) => e.id)).toEqual([brunoErased.id, again.id, first.id]);
    await signAll(org.id);
    const verified = await verifyOrganisationLog({
      db,
      orgId: org.id,
      verifiers: [testCheckpointSigner.verifierKey],
      logOrigin,
    });
    expect(verified.ok).toBe(true);
  }, 300_000);

  it("still finds tampering with what an erased entry's leaf holds in clear, at its seq", async () => {
    const entries = await feed(org.slug, admin);
    const erased = entries.find(
      (e) => e.actor.id === alice.id && e.type === "org.invite_user",
    ) as AuditEntry;
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET type = 'org.remove_user' WHERE org_id = $1 AND id = $2",
      [org.id, erased.id],
    );
    try {
      const verified = await verifyOrganisationLog({
        db,
        orgId: org.id,
        verifiers: [testCheckpointSigner.verifierKey],
        logOrigin,
      });
      expect(verified.ok).toBe(false);
      if (verified.ok) return;
      expect(verified.firstBad).toMatchObject({ seq: erased.seq, reason: "changed" });
    } finally {
      await bypassingAppendOnly(
        pool,
        "UPDATE audit_entries SET type = 'org.invite_user' WHERE org_id = $1 AND id = $2",
        [org.id, erased.id],
      );
    }
    // Its kept digest changed: found too.
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET personal_digest = sha256(personal_digest) WHERE org_id = $1 AND id = $2",
      [org.id, erased.id],
    );
    const verified = await verifyOrganisationLog({
      db,
      orgId: org.id,
      verifiers: [testCheckpointSigner.verifierKey],
      logOrigin,
    });
    expect(verified).toMatchObject({ ok: false, firstBad: { seq: erased.seq } });
  }, 120_000);
});

describe("the append-only rule around erasures", () => {
  let orgId: string;
  const alice = person("alice");

  beforeAll(async () => {
    orgId = (await createOrgWithKey("team", "erasetrg")).org.id;
    await writeAuditEntries(db, [by(alice, {}, orgId)]);
  });
  afterAll(() => purgeOrganisationLog(db, orgId));

  async function inErase(sql: string): Promise<void> {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query("SET LOCAL auditlog.maintenance = 'erase'");
      await client.query(sql, [orgId]);
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    } finally {
      client.release();
    }
  }

  const digest = "personal_digest = sha256(commit_salt), commit_salt = NULL";

  it("refuses every UPDATE outside an erasure", async () => {
    await expect(
      pool.query("UPDATE audit_entries SET actor_name = 'x' WHERE org_id = $1", [orgId]),
    ).rejects.toMatchObject({ code: "AL001" });
  });

  it("in an erasure, refuses a change of what the leaf holds in clear, or keeping the salt", async () => {
    await expect(
      inErase(`UPDATE audit_entries SET type = 'x', ${digest} WHERE org_id = $1`),
    ).rejects.toMatchObject({ code: "AL001" });
    await expect(
      inErase(`UPDATE audit_entries SET actor_id = 'x', ${digest} WHERE org_id = $1`),
    ).rejects.toMatchObject({ code: "AL001" });
    await expect(
      inErase(`UPDATE audit_entries SET seq = seq + 100, ${digest} WHERE org_id = $1`),
    ).rejects.toMatchObject({ code: "AL001" });
    await expect(
      inErase("UPDATE audit_entries SET actor_name = 'x' WHERE org_id = $1"),
    ).rejects.toMatchObject({ code: "AL001" });
  });

  it("in an erasure, lets personal fields change with the digest kept, and then never the digest", async () => {
    await inErase(
      `UPDATE audit_entries SET actor_name = 'x', user_agent = NULL, ${digest} WHERE org_id = $1`,
    );
    await expect(
      inErase(
        "UPDATE audit_entries SET personal_digest = sha256(personal_digest) WHERE org_id = $1",
      ),
    ).rejects.toMatchObject({ code: "AL001" });
    await inErase("UPDATE audit_entries SET actor_name = 'y' WHERE org_id = $1");
    const { rows } = await pool.query(
      "SELECT actor_name, commit_salt FROM audit_entries WHERE org_id = $1",
      [orgId],
    );
    expect(rows).toEqual([{ actor_name: "y", commit_salt: null }]);
  });
});

describe("POST /v1/orgs/:org/erasures refuses", () => {
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let writer: string;
  const alice = person("alice");
  const password = "correct horse battery";
  let adminEmail: string;

  beforeAll(async () => {
    org = (await createOrgWithKey("team", "erasebad")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    writer = (await createMemberWithToken(org.slug, "write")).token;
    adminEmail = `${alice.id.toLowerCase()}@example.test`;
    await upsertUserMembership(db, {
      email: adminEmail,
      name: "cookie admin",
      passwordHash: await hashPassword(password),
      orgSlug: org.slug,
      role: "admin",
    });
    await writeAuditEntries(db, [by(alice, {}, org.id)]);
  });
  afterAll(() => purgeOrganisationLog(db, org.id));

  const post = (token: string | null, body: unknown, headers: Record<string, string> = {}) =>
    api(`/v1/orgs/${org.slug}/erasures`, token, { method: "POST", body, headers });

  it("an unknown actor with 404 naming actorId", async () => {
    const response = await post(admin, { actorId: "usr_nobody_here" });
    expect(response.status).toBe(404);
    const body = (await response.json()) as {
      error: { code: string; message: string; details: { path: string }[] };
    };
    expect(body.error.code).toBe("not_found");
    expect(body.error.message).toContain("usr_nobody_here");
    expect(body.error.details.map((d) => d.path)).toEqual(["actorId"]);
  });

  it("a bad body with 400 naming the field", async () => {
    const cases: [unknown, string][] = [
      [{}, "actorId"],
      [{ actorId: "" }, "actorId"],
      [{ actorId: 7 }, "actorId"],
      [{ actorId: "x".repeat(201) }, "actorId"],
      [{ actorId: alice.id, extra: 1 }, "extra"],
    ];
    for (const [body, field] of cases) {
      const response = await post(admin, body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const answer = (await response.json()) as {
        error: { code: string; message: string; details: { path: string; message: string }[] };
      };
      expect(answer.error.code).toBe("validation_failed");
      expect(JSON.stringify(answer.error.details), JSON.stringify(body)).toContain(field);
    }
    const notJson = await post(admin, "{not json");
    expect(notJson.status).toBe(400);
  });

  it("non-admins with 403, and nothing is erased", async () => {
    const response = await post(writer, { actorId: alice.id });
    expect(response.status).toBe(403);
    const { rows } = await pool.query("SELECT actor_name FROM audit_entries WHERE org_id = $1", [
      org.id,
    ]);
    expect(rows).toEqual([{ actor_name: alice.name }]);
  });

  it("a cookie session without its CSRF token, and takes it with one", async () => {
    const login = await stack.app.request("/v1/auth/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ email: adminEmail, password }),
    });
    expect(login.status).toBe(200);
    const cookie = `auditlog_session=${/auditlog_session=([^;]*)/.exec(login.headers.get("set-cookie") ?? "")?.[1]}`;
    const { csrfToken } = (await login.json()) as { csrfToken: string };
    const refused = await post(null, { actorId: alice.id }, { cookie });
    expect(refused.status).toBe(403);
    const accepted = await post(null, { actorId: alice.id }, { cookie, "x-csrf-token": csrfToken });
    expect(accepted.status).toBe(201);
    expect(erasureSchema.parse(await accepted.json()).entries).toBe(1);
  });
});
