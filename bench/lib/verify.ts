import { prepareLeafHashWorker, verifyOrganisationLog } from "@auditlog/api/verify-log";
import {
  createDatabase,
  type Database,
  purgeOrganisationLog,
  readLogSize,
  writeAuditEntries,
} from "@auditlog/db";
import { newId } from "@auditlog/events";
import { parseSignerKey, signerKeyFromSeed } from "@auditlog/tlog";
import { advanceLogTree } from "@auditlog/worker";
import { entryRow, rowPool } from "./pool.ts";
import { benchDatabaseUrl } from "./stack.ts";
import { formatCount, log, round } from "./util.ts";

// The `verify` phase (issue 14): how fast `pnpm auditlog verify` goes through a log — every
// leaf recomputed from the stored entries, the tree rebuilt, every checkpoint checked. The
// target is ≥ 200,000 entries/s.

export interface VerifyBenchResult {
  entries: number;
  checkpoints: number;
  /** Whether the log verified (false means the bench itself is broken). */
  ok: boolean;
  seconds: number;
  entriesPerSecond: number;
  /** Seconds spent seeding and building the tree (not part of the figure). */
  setupSeconds: number;
}

const logOrigin = "bench.auditlog.localhost";
/** A fixed key, so a tree built by an earlier run of a kept organisation still verifies. */
const signer = parseSignerKey(signerKeyFromSeed(logOrigin, new Uint8Array(32).fill(7)));

/** Writes `count` entries into `orgId`'s log, in the pool's shapes, in batches. */
async function seedEntries(db: Database, orgId: string, count: number): Promise<void> {
  const pool = rowPool();
  const start = Date.parse("2026-01-01T00:00:00Z");
  for (let done = 0; done < count; ) {
    const batch = Math.min(10_000, count - done);
    await writeAuditEntries(
      db,
      Array.from({ length: batch }, (_, i) => {
        const n = done + i;
        const at = new Date(start + n * 37);
        return entryRow(
          orgId,
          newId("evt", at),
          at,
          pool.templates[n % pool.templates.length] as (typeof pool.templates)[number],
          pool.ips[n % pool.ips.length] as (typeof pool.ips)[number],
        );
      }),
    );
    done += batch;
  }
}

/**
 * Seeds an organisation of `entries` entries (or uses `orgId`'s entries as they are), builds its
 * tree with a checkpoint every `checkpointEvery` entries, then times one verification of the
 * whole log. A seeded organisation is purged afterwards unless `keep`.
 */
export async function benchVerify(options: {
  entries: number;
  orgId?: string;
  checkpointEvery?: number;
  databaseUrl?: string;
  workers?: number;
  keep?: boolean;
}): Promise<VerifyBenchResult> {
  const db = createDatabase({ url: options.databaseUrl ?? benchDatabaseUrl, poolSize: 4 });
  const orgId = options.orgId ?? newId("org");
  try {
    const setupStart = performance.now();
    const existing = await readLogSize(db, orgId);
    if (existing < options.entries) await seedEntries(db, orgId, options.entries - existing);
    let checkpoints = 0;
    for (;;) {
      const step = await advanceLogTree(
        db,
        orgId,
        { signer, logOrigin },
        options.checkpointEvery ?? 50_000,
      );
      if (step.treeSize === step.fromSize) break;
      checkpoints++;
    }
    // From source (as here, under tsx) the hashing threads' code is bundled on first use and
    // kept until its sources change: a one-off of a checkout, which the built CLI does not pay
    // at all (scripts/build-app.ts compiles the threads' entry). Not part of the timed verify.
    await prepareLeafHashWorker();
    const setupSeconds = (performance.now() - setupStart) / 1000;
    log(`verify: ${formatCount(options.entries)} entries ready in ${round(setupSeconds)} s`);
    const start = performance.now();
    const result = await verifyOrganisationLog({
      db,
      orgId,
      verifiers: [signer.verifierKey],
      logOrigin,
      ...(options.workers === undefined ? {} : { workers: options.workers }),
    });
    const seconds = (performance.now() - start) / 1000;
    const entries = result.ok ? result.treeSize : 0;
    if (!result.ok) log(`verify: the bench log did not verify: ${JSON.stringify(result)}`);
    return {
      entries,
      checkpoints,
      ok: result.ok,
      seconds: round(seconds, 2),
      entriesPerSecond: Math.round(entries / seconds),
      setupSeconds: round(setupSeconds),
    };
  } finally {
    if (!options.orgId && !options.keep) await purgeOrganisationLog(db, orgId);
    await db.close();
  }
}
