import { spawn } from "node:child_process";
import { insertAuditEntries, purgeOrganisationLog } from "@auditlog/db";
import {
  auditEntryRow,
  createTestDatabase,
  createTestPool,
  prepareTestDatabase,
  testDatabaseUrl,
} from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

/**
 * The log is append-only in PostgreSQL itself (issue 14 §5): whoever reaches the database with
 * `psql` cannot change or remove an entry or a checkpoint; only `purgeOrganisationLog` (the
 * retention purge's path) removes an organisation's whole log. Run through the real `psql`
 * binary, as an operator would.
 */

interface PsqlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs each statement in one psql session, stopping at the first error (verbose: SQLSTATE). */
function psql(...statements: string[]): Promise<PsqlResult> {
  const args = ["-X", "-d", testDatabaseUrl, "-v", "ON_ERROR_STOP=1", "-v", "VERBOSITY=verbose"];
  for (const statement of statements) args.push("-c", statement);
  return new Promise((resolve, reject) => {
    const child = spawn("psql", args, { stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    child.once("error", reject);
    child.once("close", (code) => resolve({ code, stdout, stderr }));
  });
}

const pool = createTestPool();
const db = createTestDatabase();

/**
 * Two organisations whose entries live in partition audit_entries_p00 (hash of org_id, modulus
 * 16), so that truncating that partition by name would reach them.
 */
async function orgIdsInFirstPartition(count: number): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM (
       SELECT 'org_appendonly_' || md5(random()::text || n) AS id FROM generate_series(1, 2000) n
     ) candidates
     WHERE satisfies_hash_partition('audit_entries'::regclass, 16, 0, id) LIMIT $1`,
    [count],
  );
  expect(rows).toHaveLength(count);
  return rows.map((row) => row.id);
}

/** Everything stored for these organisations, as text: any change shows as a difference. */
async function snapshot(orgIds: string[]) {
  const query = async (sql: string) =>
    (await pool.query<{ row: string }>(sql, [orgIds])).rows.map((r) => r.row);
  return {
    entries: await query(
      `SELECT (e.*)::text AS row FROM audit_entries e WHERE org_id = ANY($1) ORDER BY org_id, seq`,
    ),
    partition: await query(
      `SELECT (e.*)::text AS row FROM audit_entries_p00 e WHERE org_id = ANY($1) ORDER BY org_id, seq`,
    ),
    checkpoints: await query(
      `SELECT (c.*)::text AS row FROM audit_log_checkpoints c WHERE org_id = ANY($1)
       ORDER BY org_id, tree_size`,
    ),
    heads: await query(
      "SELECT (h.*)::text AS row FROM audit_log_heads h WHERE org_id = ANY($1) ORDER BY org_id",
    ),
    trees: await query(
      "SELECT (t.*)::text AS row FROM audit_log_trees t WHERE org_id = ANY($1) ORDER BY org_id",
    ),
    tiles: await query(
      `SELECT (t.*)::text AS row FROM audit_log_tiles t WHERE org_id = ANY($1)
       ORDER BY org_id, level, index`,
    ),
  };
}

describe("append-only audit log in PostgreSQL", () => {
  let orgA: string;
  let orgB: string;
  const entriesPerOrg = 5;

  beforeAll(async () => {
    await prepareTestDatabase();
    [orgA, orgB] = (await orgIdsInFirstPartition(2)) as [string, string];
    for (const orgId of [orgA, orgB]) {
      await insertAuditEntries(
        db,
        Array.from({ length: entriesPerOrg }, (_, i) =>
          auditEntryRow(orgId, { description: `entry ${i}`, hiddenByDefault: i === 0 }),
        ),
      );
      // A tree head, a tile and two checkpoints, as the tree builder stores them (inserts are
      // allowed: the log only grows).
      const root = Buffer.alloc(32, orgId === orgA ? 1 : 2);
      await pool.query("INSERT INTO audit_log_trees (org_id, size, root_hash) VALUES ($1, 5, $2)", [
        orgId,
        root,
      ]);
      await pool.query(
        "INSERT INTO audit_log_tiles (org_id, level, index, hashes) VALUES ($1, 0, 0, $2)",
        [orgId, Buffer.alloc(32 * entriesPerOrg, 3)],
      );
      for (const size of [3, 5]) {
        await pool.query(
          "INSERT INTO audit_log_checkpoints (org_id, tree_size, root_hash, note) VALUES ($1, $2, $3, $4)",
          [orgId, size, root, `test note ${size}\n`],
        );
      }
    }
    const stored = await snapshot([orgA, orgB]);
    expect(stored.entries).toHaveLength(2 * entriesPerOrg);
    expect(stored.partition).toHaveLength(2 * entriesPerOrg);
    expect(stored.checkpoints).toHaveLength(4);
  });
  afterAll(async () => {
    await purgeOrganisationLog(db, orgB).catch(() => {});
    await db.close();
    await pool.end();
  });

  // Statements that reach beyond the test's own organisations (TRUNCATE of the table or of a
  // partition) run inside a transaction that is rolled back if they ever succeed, so a broken
  // trigger fails this test without wiping what other tests stored meanwhile.
  const refused: [string, string[]][] = [
    [
      "UPDATE of an entry",
      ["UPDATE audit_entries SET description = 'rewritten' WHERE org_id = :A"],
    ],
    ["UPDATE of an entry's seq", ["UPDATE audit_entries SET seq = seq + 100 WHERE org_id = :A"]],
    [
      "UPDATE through the partition",
      ["UPDATE audit_entries_p00 SET actor_name = 'mallory' WHERE org_id = :A"],
    ],
    ["DELETE of an entry", ["DELETE FROM audit_entries WHERE org_id = :A AND seq = 3"]],
    ["DELETE of a whole log", ["DELETE FROM audit_entries WHERE org_id = :A"]],
    ["DELETE through the partition", ["DELETE FROM audit_entries_p00 WHERE org_id = :A"]],
    ["TRUNCATE audit_entries", ["BEGIN", "TRUNCATE audit_entries", "ROLLBACK"]],
    ["TRUNCATE audit_entries_p00", ["BEGIN", "TRUNCATE audit_entries_p00", "ROLLBACK"]],
    [
      "UPDATE of a checkpoint",
      ["UPDATE audit_log_checkpoints SET note = 'forged' WHERE org_id = :A"],
    ],
    ["DELETE of a checkpoint", ["DELETE FROM audit_log_checkpoints WHERE org_id = :A"]],
    ["TRUNCATE audit_log_checkpoints", ["BEGIN", "TRUNCATE audit_log_checkpoints", "ROLLBACK"]],
    [
      "UPDATE with auditlog.maintenance = 'purge' for the session",
      [
        "SET auditlog.maintenance = 'purge'",
        "UPDATE audit_entries SET description = 'rewritten' WHERE org_id = :A",
      ],
    ],
    [
      "UPDATE with auditlog.maintenance = 'purge' for the transaction",
      [
        "BEGIN",
        "SET LOCAL auditlog.maintenance = 'purge'",
        "UPDATE audit_entries SET description = 'rewritten' WHERE org_id = :A",
        "COMMIT",
      ],
    ],
    [
      "UPDATE of a checkpoint with auditlog.maintenance = 'purge'",
      [
        "SET auditlog.maintenance = 'purge'",
        "UPDATE audit_log_checkpoints SET note = 'forged' WHERE org_id = :A",
      ],
    ],
  ];

  it.each(refused)(
    "psql: %s fails with SQLSTATE AL001 and changes nothing",
    async (_, statements) => {
      const before = await snapshot([orgA, orgB]);
      const result = await psql(...statements.map((s) => s.replaceAll(":A", `'${orgA}'`)));
      expect(result.code, result.stdout).not.toBe(0);
      expect(result.stderr).toMatch(
        /ERROR: {2}AL001: \S+ is append-only: (UPDATE|DELETE|TRUNCATE) refused/,
      );
      expect(await snapshot([orgA, orgB])).toEqual(before);
    },
  );

  it("psql: appending is allowed (the control: psql reaches the database and can write)", async () => {
    const result = await psql(
      `INSERT INTO audit_log_checkpoints (org_id, tree_size, root_hash, note)
       VALUES ('${orgB}', 6, decode(repeat('00', 32), 'hex'), 'control')`,
    );
    expect(result.stderr).toBe("");
    expect(result.code).toBe(0);
    expect((await snapshot([orgB])).checkpoints).toHaveLength(3);
  });

  it("purgeOrganisationLog removes one organisation's whole log, and only it", async () => {
    const before = await snapshot([orgB]);
    await purgeOrganisationLog(db, orgA);
    const gone = await snapshot([orgA]);
    expect(gone).toEqual({
      entries: [],
      partition: [],
      checkpoints: [],
      heads: [],
      trees: [],
      tiles: [],
    });
    const kept = await snapshot([orgB]);
    expect(kept).toEqual(before);
    expect(kept.entries).toHaveLength(entriesPerOrg);
    expect(kept.heads).toHaveLength(1);
    expect(kept.tiles).toHaveLength(1);
  });
});
