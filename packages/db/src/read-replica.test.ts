import { emptyQuery } from "@auditlog/events";
import pg from "pg";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization } from "./accounts.ts";
import { createDatabase, type Database } from "./database.ts";
import { insertAuditEntries } from "./entries.ts";
import { getEntry, listEntries } from "./entry-queries.ts";
import { migrateDatabase } from "./migrate.ts";
import {
  type PrivatePostgres,
  startPrivatePostgres,
  startPrivateReplica,
} from "./private-postgres.ts";
import { readStreamEntries } from "./stream-delivery.ts";
import { auditEntryRow, testDatabaseUrl } from "./testing.ts";

// A primary and a streaming replica of its own (pg_basebackup), each on its own port, so the
// test can pause the replica's replay (injected lag) and stop it without touching anyone else.
let primary: PrivatePostgres;
let replica: PrivatePostgres;
let replicaAdmin: pg.Pool;
const handles: Database[] = [];
let orgId: string;

function handle(maxLagMs: number, readUrl?: string): Database {
  const db = createDatabase({
    url: primary.url("auditlog"),
    poolSize: 3,
    applicationName: `replica-test-${maxLagMs}`,
    readReplica: {
      url: readUrl ?? replica.url("auditlog"),
      maxLagMs,
      checkIntervalMs: 100,
    },
  });
  handles.push(db);
  return db;
}

/** Polls `condition` until it holds; throws (naming `what`) if it never does within 30 s. */
async function until(what: string, condition: () => Promise<boolean> | boolean): Promise<void> {
  const deadline = Date.now() + 30_000;
  while (!(await condition())) {
    if (Date.now() > deadline) throw new Error(`never happened within 30 s: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

const lagFigures = (label: string, db: Database) => {
  const status = db.readReplicaStatus();
  console.log(
    `${label}: reads from ${status?.readsFrom}, lag ${status?.lagMs} ms, ${status?.lagBytes} bytes of WAL behind (max ${status?.maxLagMs} ms)${status?.reason ? ` — ${status.reason}` : ""}`,
  );
  return status;
};

beforeAll(async () => {
  primary = await startPrivatePostgres();
  await migrateDatabase(primary.url("auditlog"));
  replica = await startPrivateReplica(primary);
  replicaAdmin = new pg.Pool({ connectionString: replica.url("auditlog"), max: 1 });
  // Its idle connection is cut when the replica is stopped on purpose.
  replicaAdmin.on("error", () => {});
  const writer = createDatabase({ url: primary.url("auditlog"), poolSize: 1 });
  handles.push(writer);
  orgId = (await createOrganization(writer, { slug: "replica-org", name: "R", plan: "team" })).id;
  await insertAuditEntries(writer, [auditEntryRow(orgId, { id: "evt_replica_before" })]);
}, 120_000);

afterAll(async () => {
  await Promise.allSettled(handles.map((db) => db.close()));
  await replicaAdmin?.end();
  await replica?.destroy();
  await primary?.destroy();
});

describe("a PostgreSQL streaming replica behind DATABASE_READ_URL", () => {
  it("serves forReads() once its lag is measured within bounds, and shows its sessions apart", async () => {
    const db = handle(60_000);
    expect(db.forReads()).toBe(db);
    await until("reads go to the replica", () => db.readReplicaStatus()?.readsFrom === "replica");
    const status = lagFigures("caught up", db);
    expect(status?.lagMs).toBeLessThan(60_000);
    expect(status?.lagBytes).toBe(0);
    const reader = db.forReads();
    expect(reader).not.toBe(db);
    expect(await getEntry(reader, orgId, "evt_replica_before")).not.toBeNull();
    // The replica's sessions carry the handle's name with "-read"; the primary has none of them.
    const names = async (pool: pg.Pool) =>
      (
        await pool.query<{ name: string }>(
          "SELECT application_name AS name FROM pg_stat_activity WHERE application_name LIKE 'replica-test-60000%'",
        )
      ).rows.map((row) => row.name);
    expect(await names(replicaAdmin)).toContain("replica-test-60000-read");
    const primaryAdmin = new pg.Pool({ connectionString: primary.url("auditlog"), max: 1 });
    try {
      expect(await names(primaryAdmin)).not.toContain("replica-test-60000-read");
      // And the primary names its standby, streaming.
      const { rows } = await primaryAdmin.query(
        "SELECT application_name, state FROM pg_stat_replication",
      );
      expect(rows).toEqual([{ application_name: "auditlog-replica", state: "streaming" }]);
    } finally {
      await primaryAdmin.end();
    }
  });

  it("reads from the replica miss a write it has not replayed; the primary and a caught-up reader see it; past the bound reads fall back until it recovers", async () => {
    const tolerant = handle(60_000);
    const strict = handle(1000);
    await until(
      "both handles read from the replica",
      () =>
        tolerant.readReplicaStatus()?.readsFrom === "replica" &&
        strict.readReplicaStatus()?.readsFrom === "replica",
    );
    // Read-your-writes on request: a write, then a reader that has it (the replica, caught up).
    await insertAuditEntries(tolerant, [auditEntryRow(orgId, { id: "evt_replica_caught_up" })]);
    const caughtUp = await tolerant.forReadsCaughtUp();
    expect(caughtUp).not.toBe(tolerant);
    expect(await getEntry(caughtUp, orgId, "evt_replica_caught_up")).not.toBeNull();

    // Injected lag: the replica stops replaying; the next write exists on the primary only.
    await replicaAdmin.query("SELECT pg_wal_replay_pause()");
    try {
      await insertAuditEntries(tolerant, [auditEntryRow(orgId, { id: "evt_primary_only" })]);
      // Within its (generous) bound, the tolerant handle still reads the replica: the row is not
      // there, as a replica read must show; the primary itself has it.
      const stale = tolerant.forReads();
      expect(stale).not.toBe(tolerant);
      expect(await getEntry(stale, orgId, "evt_primary_only")).toBeNull();
      expect(await getEntry(tolerant, orgId, "evt_primary_only")).not.toBeNull();
      const page = await listEntries(stale, {
        orgId,
        query: emptyQuery(),
        limit: 10,
        cursor: null,
      });
      expect(page.entries.map((entry) => entry.id)).not.toContain("evt_primary_only");
      // A stream reading the replica stops where the replica does: its cursor may move to
      // `scannedThrough` without passing over the entry the replica has not replayed yet.
      const streamRead = (db: Database) =>
        readStreamEntries(db, {
          orgId,
          query: emptyQuery(),
          afterSeq: 0,
          limit: 100,
          scanWindow: 1000,
        });
      const onReplica = await streamRead(stale);
      const onPrimary = await streamRead(tolerant);
      expect(onReplica.entries.map((entry) => entry.id)).not.toContain("evt_primary_only");
      expect(onReplica.scannedThrough).toBe(onReplica.entries.at(-1)?.seq);
      expect(onPrimary.entries.at(-1)?.id).toBe("evt_primary_only");
      expect(onPrimary.scannedThrough).toBe(onReplica.scannedThrough + 1);

      // The strict handle's bound is passed: its reads go to the primary, which has the row.
      await until("the strict handle falls back", async () => {
        await insertAuditEntries(tolerant, [auditEntryRow(orgId)]);
        return strict.readReplicaStatus()?.readsFrom === "primary";
      });
      const behind = lagFigures("replay paused", strict);
      expect(behind?.lagMs).toBeGreaterThan(1000);
      expect(behind?.lagBytes).toBeGreaterThan(0);
      expect(behind?.reason).toMatch(/behind by about \d+ ms/);
      expect(strict.forReads()).toBe(strict);
      expect(await getEntry(strict.forReads(), orgId, "evt_primary_only")).not.toBeNull();
      // A caught-up reader is not waited for past the bound: the primary answers.
      expect(await strict.forReadsCaughtUp()).toBe(strict);
    } finally {
      await replicaAdmin.query("SELECT pg_wal_replay_resume()");
    }
    await until("the strict handle returns to the replica", () => {
      return strict.readReplicaStatus()?.readsFrom === "replica";
    });
    const recovered = lagFigures("replay resumed", strict);
    expect(recovered?.lagMs).toBeLessThanOrEqual(500);
    expect(await getEntry(strict.forReads(), orgId, "evt_primary_only")).not.toBeNull();
    expect(strict.forReads()).not.toBe(strict);
  });

  it("refuses a read URL that is not a standby of DATABASE_URL's server", async () => {
    const wrong = handle(60_000, testDatabaseUrl);
    await until("the check has run", () => wrong.readReplicaStatus()?.checkedAt !== null);
    const status = lagFigures("another server", wrong);
    expect(status?.readsFrom).toBe("primary");
    expect(status?.reason).toMatch(/not a replica of DATABASE_URL's/);
    expect(wrong.forReads()).toBe(wrong);
  });

  it("falls back to the primary when the replica stops answering", async () => {
    const db = handle(60_000);
    await until("reads go to the replica", () => db.readReplicaStatus()?.readsFrom === "replica");
    await replica.stop();
    try {
      await until("reads fall back", () => db.readReplicaStatus()?.readsFrom === "primary");
      const status = lagFigures("replica stopped", db);
      expect(status?.reason).toMatch(/did not answer/);
      expect(await getEntry(db.forReads(), orgId, "evt_replica_before")).not.toBeNull();
    } finally {
      await replica.start();
    }
    await until(
      "reads return to the replica",
      () => db.readReplicaStatus()?.readsFrom === "replica",
    );
  });
});
