import { performance } from "node:perf_hooks";
import {
  createDatabase,
  listLogsBehind,
  logTileReader,
  readCheckpoint,
  readEntrySeq,
  readLogTree,
  withLogTransaction,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { inclusionProofSchema } from "@auditlog/events";
import { inclusionProof, openNote, verifyInclusion } from "@auditlog/tlog";
import { advanceLogTree } from "@auditlog/worker";
import { ensureOrg, ensureSeedTables, type SeededOrg } from "./seed.ts";
import {
  benchDatabaseUrl,
  benchLogOrigin,
  benchSigner,
  createAdminToken,
  findOrg,
  partitionOf,
  partitionTable,
} from "./stack.ts";
import { formatCount, httpRequest, log, percentile, rng, round } from "./util.ts";

/*
 * The verifiable log's datasets and read-side figures (issue 14): one organisation of 1,000,000
 * entries with its whole tree built (seeded once, reused by later runs of either size), the
 * inclusion proof route timed over HTTP against it.
 */

/** Entries of the proof organisation: the "1,000,000 entries per organisation". */
export const logOrgEntries = 1_000_000;
export const logOrgSlug = "bench-log-1m";
/** Leaves per `advanceLogTree` call when building a seeded tree (the worker's default is 50,000). */
const buildStep = 100_000;

/**
 * Builds the tree (tiles, head, a signed checkpoint per step) of every log that is behind, with
 * the bench's key, before any load: a running deployment's trees are up to date, and a checkpoint
 * loop started by the ingest phase must spend its time on the load, not on seeded data.
 */
export async function catchUpLogTrees(): Promise<{ leaves: number; seconds: number }> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
  try {
    const signing = { signer: await benchSigner(), logOrigin: benchLogOrigin };
    const started = performance.now();
    let leaves = 0;
    for (;;) {
      const behind = await listLogsBehind(db, 100);
      if (behind.length === 0) break;
      for (const log of behind) {
        const { fromSize, treeSize } = await advanceLogTree(db, log.orgId, signing, buildStep);
        leaves += treeSize - fromSize;
      }
    }
    const seconds = (performance.now() - started) / 1000;
    if (leaves > 0)
      log(`log: built ${formatCount(leaves)} leaves of seeded trees in ${round(seconds)} s`);
    return { leaves, seconds };
  } finally {
    await db.close();
  }
}

/**
 * A tree whose latest checkpoint the bench's key does not verify (built by an earlier bench with
 * another key) is removed, tiles, head and checkpoints, to be built again: `verify` checks every
 * checkpoint against the bench's key. Through the purge's own switch, on bench data only; the
 * entries stay.
 */
async function dropTreeSignedByAnotherKey(
  db: ReturnType<typeof createDatabase>,
  orgId: string,
  verifierKey: string,
): Promise<void> {
  const latest = await readCheckpoint(db, orgId);
  if (!latest) return;
  try {
    openNote(latest.note, [verifierKey]);
    return;
  } catch {
    log(`log: the tree of ${orgId} was signed by another key; building it again`);
  }
  await withLogTransaction(db, async (client) => {
    await client.query("SET LOCAL auditlog.maintenance = 'purge'");
    for (const table of ["audit_log_checkpoints", "audit_log_tiles", "audit_log_trees"]) {
      await client.query(`DELETE FROM ${table} WHERE org_id = $1`, [orgId]);
    }
  });
}

export interface LogDataset {
  org: SeededOrg;
  treeSize: number;
  /** Seconds spent building its tree in this run (0 when reused). */
  treeBuildSeconds: number;
  treeBuildLeavesPerSecond: number | null;
}

/** The 1,000,000-entry organisation with its tree built (seeded and built once, then reused). */
export async function ensureLogDataset(): Promise<LogDataset> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
  const { pool } = driversOf(db);
  try {
    await ensureSeedTables(pool);
    // Its own partition, away from every other seeded organisation.
    const occupied = new Set<number>();
    const known = await pool.query<{ org_id: string }>(
      "SELECT org_id FROM bench_seed_meta WHERE slug <> '_pool' AND slug <> $1",
      [logOrgSlug],
    );
    for (const row of known.rows) occupied.add(await partitionOf(pool, row.org_id));
    const existing = await findOrg(db, logOrgSlug);
    if (existing) occupied.delete(await partitionOf(pool, existing.id));
    const { org, seeded } = await ensureOrg(db, logOrgSlug, logOrgEntries, occupied);
    // Planner statistics, as ensureDatasets gives its datasets: without them PostgreSQL takes the
    // partition for a few thousand rows and sorts all 1,000,000 entries for a filtered page
    // (0.9 s for a type filter, 6.5 s for free text, instead of milliseconds). Also when reused:
    // a database copied from another (createdb -T) carries no activity counts, so autovacuum
    // never analyzes what was seeded just before the copy.
    const table = await partitionTable(pool, org.partition);
    const { rows: analyzed } = await pool.query<{ reltuples: number }>(
      "SELECT reltuples FROM pg_class WHERE oid = $1::regclass",
      [table],
    );
    if (seeded > 0 || (analyzed[0]?.reltuples ?? -1) < 0) {
      log(`log: VACUUM (ANALYZE) ${table} (visibility map and planner statistics)`);
      await pool.query(`VACUUM (ANALYZE) ${table}`);
    }
    const signing = { signer: await benchSigner(), logOrigin: benchLogOrigin };
    await dropTreeSignedByAnotherKey(db, org.id, signing.signer.verifierKey);
    const before = (await readLogTree(db, org.id))?.size ?? 0;
    const started = performance.now();
    let size = before;
    while (size < logOrgEntries) {
      ({ treeSize: size } = await advanceLogTree(db, org.id, signing, buildStep));
      log(`log: ${logOrgSlug} tree at ${formatCount(size)} leaves`);
    }
    const treeBuildSeconds = size > before ? (performance.now() - started) / 1000 : 0;
    return {
      org,
      treeSize: size,
      treeBuildSeconds: round(treeBuildSeconds),
      treeBuildLeavesPerSecond: size > before ? round((size - before) / treeBuildSeconds, 0) : null,
    };
  } finally {
    await db.close();
  }
}

export interface ProofResult {
  org: string;
  treeSize: number;
  calls: number;
  warmupCalls: number;
  /** Answers checked with @auditlog/tlog's verifyInclusion against the tree's stored root. */
  verified: number;
  p50: number;
  p95: number;
  p99: number;
  max: number;
  /** The same entries' proofs computed in this process (no HTTP, no auth): the route's work. */
  inProcess: { p50: number; p95: number; p99: number };
}

/**
 * `GET /v1/orgs/:org/audit-logs/:id/proof` for entries drawn uniformly from the whole log, one
 * at a time on a keep-alive connection, with an admin's personal access token. Each answer must
 * be a 200 of the contract's shape; every tenth is verified against the tree's root (outside
 * the timing), so the figure is of right answers.
 */
export async function runProofs(
  port: number,
  dataset: LogDataset,
  warmupCalls: number,
  calls: number,
): Promise<ProofResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
  const { pool } = driversOf(db);
  try {
    const { org } = dataset;
    const token = await createAdminToken(db, org.slug);
    const tree = await readLogTree(db, org.id);
    if (!tree) throw new Error(`${org.slug} has no tree`);
    const random = rng(1409);
    const seqs = Array.from(
      { length: warmupCalls + calls },
      () => 1 + Math.floor(random() * dataset.treeSize),
    );
    const { rows } = await pool.query<{ id: string; seq: number }>(
      "SELECT id, seq::float8 AS seq FROM audit_entries WHERE org_id = $1 AND seq = ANY($2::bigint[])",
      [org.id, seqs],
    );
    const idOf = new Map(rows.map((row) => [row.seq, row.id]));
    const headers = { authorization: `Bearer ${token}` };
    const samples: number[] = [];
    let verified = 0;
    for (const [i, seq] of seqs.entries()) {
      const id = idOf.get(seq);
      if (!id) throw new Error(`${org.slug} has no entry ${seq}`);
      const url = `http://127.0.0.1:${port}/v1/orgs/${org.slug}/audit-logs/${id}/proof?treeSize=${dataset.treeSize}`;
      const started = performance.now();
      const answer = await httpRequest(url, { headers });
      const ms = performance.now() - started;
      if (answer.status !== 200) throw new Error(`GET ${url}: ${answer.status} ${answer.body}`);
      if (i >= warmupCalls) samples.push(ms);
      if (i % 10 === 0) {
        const proof = inclusionProofSchema.parse(JSON.parse(answer.body));
        const ok =
          proof.leafIndex === seq - 1 &&
          verifyInclusion({
            leafIndex: proof.leafIndex,
            treeSize: proof.treeSize,
            leafHash: Buffer.from(proof.leafHash, "base64"),
            proof: proof.proof.map((p) => Buffer.from(p, "base64")),
            rootHash: tree.rootHash,
          });
        if (!ok) throw new Error(`the proof of entry ${seq} does not verify`);
        verified++;
      }
    }
    // The route's own work for the same entries, straight against PostgreSQL.
    const direct: number[] = [];
    for (const [i, seq] of seqs.entries()) {
      const started = performance.now();
      const found = await readEntrySeq(db, org.id, idOf.get(seq) as string);
      await inclusionProof(logTileReader(db, org.id), (found as number) - 1, dataset.treeSize);
      if (i >= warmupCalls) direct.push(performance.now() - started);
    }
    log(
      `proofs: ${calls} calls, p50 ${round(percentile(samples, 50), 2)} ms, p95 ${round(percentile(samples, 95), 2)} ms (${verified} answers verified)`,
    );
    return {
      org: org.slug,
      treeSize: dataset.treeSize,
      calls,
      warmupCalls,
      verified,
      p50: round(percentile(samples, 50), 2),
      p95: round(percentile(samples, 95), 2),
      p99: round(percentile(samples, 99), 2),
      max: round(Math.max(...samples), 2),
      inProcess: {
        p50: round(percentile(direct, 50), 2),
        p95: round(percentile(direct, 95), 2),
        p99: round(percentile(direct, 99), 2),
      },
    };
  } finally {
    await db.close();
  }
}
