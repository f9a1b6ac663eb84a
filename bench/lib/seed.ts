import { performance } from "node:perf_hooks";
import { createDatabase, type Database } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import type pg from "pg";
import { dataVersion, rowPool } from "./pool.ts";
import type { BenchSize } from "./sizes.ts";
import {
  benchDatabaseUrl,
  createOrgAvoiding,
  findOrg,
  partitionOf,
  partitionTable,
  removeBenchOrg,
} from "./stack.ts";
import { formatCount, log } from "./util.ts";

/*
 * The query and export datasets, seeded server-side (INSERT … SELECT over generate_series) from a
 * pool of 20,000 entries that were validated, described, geolocated and truncated exactly as the
 * worker does. Each organisation spreads its entries evenly over the past year (inserted in time
 * order, as they would arrive). Seeded organisations are recorded in bench_seed_meta and reused by
 * later runs when their row count and data version still match.
 */

export interface SeededOrg {
  slug: string;
  id: string;
  entries: number;
  partition: number;
}

export interface Datasets {
  big: SeededOrg;
  others: SeededOrg[];
  huge: SeededOrg;
  seededNow: number;
  seedSeconds: number;
}

export async function ensureSeedTables(pool: pg.Pool): Promise<void> {
  await pool.query(`CREATE TABLE IF NOT EXISTS bench_seed_meta (
    slug text PRIMARY KEY, org_id text NOT NULL, entries bigint NOT NULL, version int NOT NULL,
    seeded_at timestamptz NOT NULL DEFAULT now())`);
  const { rows } = await pool.query<{ version: number }>(
    "SELECT version FROM bench_seed_meta WHERE slug = '_pool'",
  );
  if (rows[0]?.version === dataVersion) return;
  log("seed: building the entry pool (templates and geolocated addresses)");
  const { templates, ips } = rowPool();
  await pool.query("DROP TABLE IF EXISTS bench_templates, bench_ips");
  await pool.query(`CREATE TABLE bench_templates (
    n int PRIMARY KEY, type text, category text, hidden_by_default boolean, actor_type text,
    actor_id text, actor_name text, actor_avatar_url text, actor_token_role text,
    actor_token_last4 text, target_type text, target_id text, target_name text, description text,
    user_agent text, data jsonb)`);
  await pool.query(
    "CREATE TABLE bench_ips (n int PRIMARY KEY, ip inet, country_code text, region text, city text)",
  );
  await pool.query(
    "INSERT INTO bench_templates SELECT * FROM json_populate_recordset(null::bench_templates, $1)",
    [
      JSON.stringify(
        templates.map((t, n) => ({
          n,
          type: t.type,
          category: t.category,
          hidden_by_default: t.hiddenByDefault,
          actor_type: t.actorType,
          actor_id: t.actorId,
          actor_name: t.actorName,
          actor_avatar_url: t.actorAvatarUrl,
          actor_token_role: t.actorTokenRole,
          actor_token_last4: t.actorTokenLast4,
          target_type: t.targetType,
          target_id: t.targetId,
          target_name: t.targetName,
          description: t.description,
          user_agent: t.userAgent,
          data: t.data ?? {},
        })),
      ),
    ],
  );
  await pool.query(
    "INSERT INTO bench_ips SELECT * FROM json_populate_recordset(null::bench_ips, $1)",
    [
      JSON.stringify(
        ips.map((ip, n) => ({
          n,
          ip: ip.ip,
          country_code: ip.countryCode,
          region: ip.region,
          city: ip.city,
        })),
      ),
    ],
  );
  // Datasets built from another pool are stale.
  await pool.query("DELETE FROM bench_seed_meta");
  await pool.query(
    "INSERT INTO bench_seed_meta (slug, org_id, entries, version) VALUES ('_pool', '', 0, $1)",
    [dataVersion],
  );
}

const insertChunkSql = `
  INSERT INTO audit_entries (org_id, id, type, category, hidden_by_default, occurred_at,
    received_at, stored_at, actor_type, actor_id, actor_name, actor_avatar_url, actor_token_role,
    actor_token_last4, target_type, target_id, target_name, description, ip, country_code, region,
    city, user_agent, data, seq)
  SELECT $1, 'evt_' || lpad(to_hex(floor(x.ms / 1000)::bigint), 8, '0')
           || substr(md5($1 || ':' || g.i), 1, 16),
         t.type, t.category, t.hidden_by_default, x.ts, x.ts + interval '35 milliseconds',
         x.ts + interval '80 milliseconds', t.actor_type, t.actor_id, t.actor_name,
         t.actor_avatar_url, t.actor_token_role, t.actor_token_last4, t.target_type, t.target_id,
         t.target_name, t.description, p.ip, p.country_code, p.region, p.city, t.user_agent, t.data,
         g.i + $10::bigint
    FROM generate_series($2::int, $3::int) g(i)
    CROSS JOIN LATERAL (
      SELECT $5::float8 + (g.i + (hashint4(g.i + $9::int) & 1023) / 1024.0) * ($6::float8 / $4::float8)
    ) m(ms)
    CROSS JOIN LATERAL (SELECT to_timestamp(m.ms / 1000.0), m.ms) x(ts, ms)
    JOIN bench_templates t ON t.n = (hashint4(g.i + $9::int) & 2147483647) % $7::int
    JOIN bench_ips p ON p.n = (hashint4((g.i + $9::int) # 1431655765) & 2147483647) % $8::int`;

/**
 * How many of the seeded entries (`seq` 1 … `entries`) an organisation holds. Its log may hold
 * more after them: exports record entries by the bench's admin, and the log is append-only.
 */
async function countSeeded(pool: pg.Pool, orgId: string, entries: number): Promise<number> {
  const { rows } = await pool.query<{ n: string }>(
    "SELECT count(*) AS n FROM audit_entries WHERE org_id = $1 AND seq <= $2",
    [orgId, entries],
  );
  return Number(rows[0]?.n ?? 0);
}

/**
 * Inserts one chunk (`from` … `to` of the series) the way the worker writes: in one transaction
 * that first grows the organisation's log counter (audit_log_heads) under its row lock, the rows
 * taking the `seq`s of the range it took. The series is seeded in time order, so `seq` follows
 * `occurred_at` and `stored_at` as it would have.
 */
async function insertChunk(
  pool: pg.Pool,
  params: unknown[],
  orgId: string,
  from: number,
  to: number,
) {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    const count = to - from + 1;
    const { rows } = await client.query<{ size: number }>(
      `INSERT INTO audit_log_heads AS head (org_id, size) VALUES ($1, $2)
       ON CONFLICT (org_id) DO UPDATE SET size = head.size + EXCLUDED.size
       RETURNING size::float8 AS size`,
      [orgId, count],
    );
    const first = (rows[0]?.size ?? 0) - count + 1;
    // seq of series item i: first + (i - from).
    await client.query(insertChunkSql, [...params, first - from]);
    await client.query("COMMIT");
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

export async function ensureOrg(
  db: Database,
  slug: string,
  entries: number,
  occupied: Set<number>,
): Promise<{ org: SeededOrg; seeded: number }> {
  const { pool } = driversOf(db);
  const meta = await pool.query<{ org_id: string; entries: string; version: number }>(
    "SELECT org_id, entries, version FROM bench_seed_meta WHERE slug = $1",
    [slug],
  );
  const existing = await findOrg(db, slug);
  const recorded = meta.rows[0];
  if (
    existing &&
    recorded &&
    recorded.org_id === existing.id &&
    Number(recorded.entries) === entries &&
    recorded.version === dataVersion
  ) {
    const count = await countSeeded(pool, existing.id, entries);
    if (count === entries) {
      const partition = await partitionOf(pool, existing.id);
      occupied.add(partition);
      log(`seed: ${slug} already holds ${formatCount(entries)} entries (reused)`);
      return { org: { slug, id: existing.id, entries, partition }, seeded: 0 };
    }
  }
  if (existing) {
    log(`seed: ${slug} is stale; removing its entries`);
    await pool.query("DELETE FROM bench_seed_meta WHERE slug = $1", [slug]);
    await removeBenchOrg(db, existing.id);
  }
  const { org, partition } = await createOrgAvoiding(db, slug, occupied);
  occupied.add(partition);
  const { templates, ips } = rowPool();
  const spanMs = 365 * 86_400_000;
  const startMs = Date.now() - spanMs;
  const salt = (Number.parseInt(org.id.slice(-6), 16) % 100_000_000) + 1;
  const chunk = 250_000;
  const started = performance.now();
  for (let from = 0; from < entries; from += chunk) {
    const to = Math.min(entries, from + chunk) - 1;
    await insertChunk(
      pool,
      [org.id, from, to, entries, startMs, spanMs, templates.length, ips.length, salt],
      org.id,
      from,
      to,
    );
    const done = to + 1;
    const rate = done / ((performance.now() - started) / 1000);
    log(
      `seed: ${slug} ${formatCount(done)} / ${formatCount(entries)} (${formatCount(rate)} rows/s, ~${Math.round((entries - done) / rate)}s left)`,
    );
  }
  await pool.query(
    "INSERT INTO bench_seed_meta (slug, org_id, entries, version) VALUES ($1, $2, $3, $4)",
    [slug, org.id, entries, dataVersion],
  );
  return { org: { slug, id: org.id, entries, partition }, seeded: entries };
}

/** Seeds (or reuses) the size's datasets, then VACUUM ANALYZEs the partitions that changed. */
export async function ensureDatasets(size: BenchSize): Promise<Datasets> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
  const { pool } = driversOf(db);
  try {
    await ensureSeedTables(pool);
    const started = performance.now();
    // Seeded organisations of every size each get a partition of their own.
    const occupied = new Set<number>();
    const known = await pool.query<{ org_id: string }>(
      "SELECT org_id FROM bench_seed_meta WHERE slug <> '_pool'",
    );
    for (const row of known.rows) occupied.add(await partitionOf(pool, row.org_id));
    const prefix = `bench-${size.name}`;
    let seededNow = 0;
    const changedPartitions = new Set<number>();
    const seed = async (slug: string, entries: number) => {
      const existing = await findOrg(db, slug);
      const own = existing ? await partitionOf(pool, existing.id) : -1;
      const avoid = new Set([...occupied].filter((p) => p !== own));
      const result = await ensureOrg(db, slug, entries, avoid);
      occupied.add(result.org.partition);
      seededNow += result.seeded;
      if (result.seeded > 0) changedPartitions.add(result.org.partition);
      return result.org;
    };
    const big = await seed(`${prefix}-big`, size.bigOrgEntries);
    const others: SeededOrg[] = [];
    for (let i = 1; i <= size.otherOrgs; i++) {
      others.push(await seed(`${prefix}-other-${i}`, size.otherEntries / size.otherOrgs));
    }
    const huge = await seed(`${prefix}-huge`, size.hugeOrgEntries);
    // Only what changed: the whole table holds both sizes' datasets (20 GB once the full size
    // is seeded), and vacuuming all of it for a quick run's 300,000 rows took 268 s here.
    for (const partition of changedPartitions) {
      const table = await partitionTable(pool, partition);
      log(`seed: VACUUM (ANALYZE) ${table} (visibility map and planner statistics)`);
      await pool.query(`VACUUM (ANALYZE) ${table}`);
    }
    return { big, others, huge, seededNow, seedSeconds: (performance.now() - started) / 1000 };
  } finally {
    await db.close();
  }
}

/** Partitions holding seeded organisations (of any size), which the ingest run must avoid. */
export async function seededPartitions(): Promise<Set<number>> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 1 });
  const { pool } = driversOf(db);
  try {
    const exists = await pool.query("SELECT to_regclass('bench_seed_meta') IS NOT NULL AS ok");
    if (!exists.rows[0]?.ok) return new Set();
    const { rows } = await pool.query<{ org_id: string }>(
      "SELECT org_id FROM bench_seed_meta WHERE slug <> '_pool'",
    );
    const partitions = new Set<number>();
    for (const row of rows) partitions.add(await partitionOf(pool, row.org_id));
    return partitions;
  } finally {
    await db.close();
  }
}
