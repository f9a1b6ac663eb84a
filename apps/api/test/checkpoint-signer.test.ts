import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import {
  createDatabase,
  type Database,
  listCheckpoints,
  purgeOrganisationLog,
  readCheckpoint,
  readEntriesBySeq,
  writeAuditEntries,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { migrateDatabase } from "@auditlog/db/migrate";
import {
  auditEntryRow,
  bypassingAppendOnly,
  createTestDatabase,
  type PrivatePostgres,
  startPrivatePostgres,
  testDatabaseUrl,
} from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import {
  checkpointOrigin,
  createKeyRing,
  entryLeafHash,
  formatVerifierKeyRing,
  MemoryTileStore,
  openCheckpoint,
  readKeyRing,
  rotateKeyRing,
  toBase64,
  treeHash,
} from "@auditlog/tlog";
import {
  CheckpointKeyError,
  loadWorkerEnv,
  startCheckpointSigner,
  startWorker,
} from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  countEntries,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

const run = promisify(execFile);
const repoRoot = new URL("../../../", import.meta.url).pathname;
const sharedKeyFile = process.env.CHECKPOINT_KEY_FILE as string;

/** The root of an organisation's stored entries, computed here from the entries alone. */
async function expectedRoot(db: Database, orgId: string, size: number): Promise<string> {
  const entries = await readEntriesBySeq(db, orgId, 1, size);
  expect(entries.map((entry) => entry.seq)).toEqual(Array.from({ length: size }, (_, i) => i + 1));
  const memory = new MemoryTileStore();
  await memory.append(entries.map((entry) => entryLeafHash(orgId, entry)));
  return toBase64(await treeHash(memory, size));
}

/** Waits for a checkpoint of `orgId` that covers at least `size` entries; throws at the deadline. */
function checkpointCovering(db: Database, orgId: string, size: number) {
  return waitFor(
    () => readCheckpoint(db, orgId),
    (checkpoint) => (checkpoint?.treeSize ?? 0) >= size,
  ).then((checkpoint) => checkpoint as NonNullable<typeof checkpoint>);
}

/** A logger that keeps every record, so a test can read what would have been written. */
function recordingLogger() {
  const lines: string[] = [];
  const write =
    (level: string) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      lines.push(JSON.stringify({ level, message, ...fields }));
    };
  const logger: Logger = {
    debug: write("debug"),
    info: write("info"),
    warn: write("warn"),
    error: write("error"),
  };
  return { logger, lines };
}

describe("the checkpoint signer (worker role checkpoints), behind the real ingest path", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  const db = createTestDatabase();
  const orgIds: string[] = [];

  beforeAll(async () => {
    stack = await startTestApi();
    worker = await startTestWorker(stack, {
      WORKER_ROLES: "ingest,checkpoints",
      CHECKPOINT_INTERVAL_MS: "50",
    });
  });
  afterAll(async () => {
    await worker.stop();
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    for (const orgId of orgIds) await purgeOrganisationLog(db, orgId);
    await db.close();
  });

  it("signs, for several organisations at once, checkpoints covering every ingested entry that open with the key file's verifiers", async () => {
    const orgs = await Promise.all([0, 1, 2].map((i) => createOrgWithKey("team", `ckpt${i}`)));
    orgIds.push(...orgs.map(({ org }) => org.id));
    const ring = await readKeyRing(sharedKeyFile);
    const sent = [0, 0, 0];
    const send = (round: number, counts: number[]) =>
      Promise.all(
        orgs.map(async ({ apiKey }, o) => {
          const count = counts[o] as number;
          for (let start = 0; start < count; start += 100) {
            const events = Array.from({ length: Math.min(100, count - start) }, (_, i) =>
              sampleEvent(start + i, { id: `r${round}-${start + i}` }),
            );
            expect((await post(stack.app, apiKey, { events })).status).toBe(202);
          }
          sent[o] = (sent[o] as number) + count;
        }),
      );

    for (const [round, counts] of [
      [250, 120, 1],
      [40, 0, 300],
    ].entries()) {
      await send(round, counts);
      for (const [o, { org }] of orgs.entries()) {
        const size = sent[o] as number;
        await waitFor(
          () => countEntries(org.id),
          (n) => n === size,
        );
        const checkpoint = await checkpointCovering(db, org.id, size);
        // Nothing more was written, so the checkpoint names exactly what is stored.
        expect(checkpoint.treeSize).toBe(size);
        const opened = openCheckpoint(
          checkpoint.note,
          ring.verifiers,
          checkpointOrigin(stack.env.LOG_ORIGIN, org.id),
        );
        expect(opened.treeSize).toBe(size);
        expect(opened.signatures.map((s) => s.keyId)).toEqual([ring.signer?.keyId]);
        expect(toBase64(opened.rootHash)).toBe(await expectedRoot(db, org.id, size));
      }
    }
  });
});

describe("a worker with the checkpoints role and no usable key file", () => {
  const dir = mkdtempSync(join(tmpdir(), "auditlog-ckpt-boot-"));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const env = (keyFile: string, roles = "checkpoints") =>
    loadWorkerEnv({
      ...process.env,
      DATABASE_URL: testDatabaseUrl,
      WORKER_ROLES: roles,
      CHECKPOINT_KEY_FILE: keyFile,
      INGEST_QUEUE: `ckpt-boot-${newId("evt").slice(-10)}`,
      EXPORT_QUEUE: `ckpt-boot-${newId("evt").slice(-10)}`,
      NOTIFY_QUEUE: `ckpt-boot-${newId("evt").slice(-10)}`,
      EXPORT_EXPIRY_INTERVAL_MS: "0",
      LOG_LEVEL: "error",
    });

  it("refuses to start, in one line naming the file and the command that creates it", async () => {
    const missing = join(dir, "no-such-file");
    const child = await run(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
      cwd: repoRoot,
      env: { ...process.env, ...stringEnv(env(missing)), WORKER_ROLES: "ingest,checkpoints" },
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code: number; stderr: string }) => error,
    );
    expect(child.code).toBe(1);
    expect(child.stderr.trim().split("\n")).toEqual([
      `worker cannot start: checkpoint key file ${missing} does not exist: create it with \`pnpm auditlog checkpoint-key create --file ${missing}\` (or point CHECKPOINT_KEY_FILE at yours)`,
    ]);
  }, 60_000);

  it("refuses a key file with public keys only, and never echoes a bad line's content", async () => {
    const publicOnly = join(dir, "verifiers");
    writeFileSync(publicOnly, formatVerifierKeyRing(await readKeyRing(sharedKeyFile)));
    await expect(startWorker(env(publicOnly))).rejects.toThrow(
      new CheckpointKeyError(
        `checkpoint key file ${publicOnly} holds no signing key (no PRIVATE+KEY line): the worker needs the file made by \`pnpm auditlog checkpoint-key create --file ${publicOnly}\`, not a copy with public keys only`,
      ),
    );

    const broken = join(dir, "broken");
    const secret = "PRIVATE+KEY+auditlog.localhost+00000000+AVeryS3cretButMalformedSeed";
    writeFileSync(broken, `# keys\n${secret}\n`);
    const error = await startWorker(env(broken)).then(
      () => null,
      (e: Error) => e,
    );
    expect(error).toBeInstanceOf(CheckpointKeyError);
    expect(error?.message).toBe(
      `checkpoint key file ${broken} cannot be used: line 2 of the key file is not a key`,
    );
  });

  it("a worker without the role never reads the key file", async () => {
    const worker = await startWorker(env(join(dir, "no-such-file"), "exports"));
    await worker.stop();
    expect(worker.logger).toBeDefined();
  });
});

function stringEnv(env: Record<string, unknown>): Record<string, string> {
  return Object.fromEntries(
    Object.entries(env).map(([key, value]) => [
      key,
      Array.isArray(value) ? value.join(",") : String(value),
    ]),
  );
}

describe("the checkpoint signer on a PostgreSQL of its own", () => {
  let postgres: PrivatePostgres;
  let db: Database;
  const dir = mkdtempSync(join(tmpdir(), "auditlog-ckpt-rotation-"));
  const keyFile = join(dir, "checkpoint-keys");
  const logOrigin = "rotation.test";
  const { logger, lines } = recordingLogger();
  let signer: Awaited<ReturnType<typeof startCheckpointSigner>>;
  let written = 0;
  const orgId = newId("org");
  /** Appends `count` entries to the organisation's log; answers its size. */
  const write = async (count: number) => {
    await writeAuditEntries(
      db,
      Array.from({ length: count }, (_, i) =>
        auditEntryRow(orgId, { id: `evt_rot${String(written + i).padStart(5, "0")}` }),
      ),
    );
    written += count;
    return written;
  };

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    const url = postgres.url("auditlog_ckpt");
    await migrateDatabase(url);
    db = createDatabase({ url, poolSize: 3, ormPoolSize: 1 });
    await createKeyRing(keyFile, logOrigin);
    // Only this signer runs on this server: every checkpoint below is its own.
    signer = await startCheckpointSigner({
      db,
      logger,
      keyFile,
      logOrigin,
      intervalMs: 50,
      keyPollMs: 100,
    });
  }, 180_000);
  afterAll(async () => {
    await signer?.close();
    await db?.close();
    await postgres?.destroy();
    rmSync(dir, { recursive: true, force: true });
  }, 120_000);

  it("signs with a rotated key within seconds, without a restart; older checkpoints still open with the rotated ring", async () => {
    const before = await readKeyRing(keyFile);
    const oldKeyId = before.signer?.keyId as string;
    const first = await checkpointCovering(db, orgId, await write(30));
    expect(openCheckpoint(first.note, before.verifiers).signatures[0]?.keyId).toBe(oldKeyId);

    const rotated = await rotateKeyRing(keyFile);
    const newKeyId = rotated.signer?.keyId as string;
    expect(newKeyId).not.toBe(oldKeyId);
    await waitFor(
      async () => signer.activeKeyId(),
      (keyId) => keyId === newKeyId,
    );
    const second = await checkpointCovering(db, orgId, await write(20));
    expect(second.treeSize).toBe(50);
    // Signed by the new key only: the old public key alone does not open it.
    expect(openCheckpoint(second.note, rotated.verifiers).signatures.map((s) => s.keyId)).toEqual([
      newKeyId,
    ]);
    expect(() => openCheckpoint(second.note, before.verifiers)).toThrow();

    const ring = await readKeyRing(keyFile);
    expect(ring.verifiers.map((key) => [key.keyId, key.active])).toEqual([
      [oldKeyId, false],
      [newKeyId, true],
    ]);
    const all = await listCheckpoints(db, orgId);
    expect(all.map((c) => c.treeSize)).toContain(30);
    for (const checkpoint of all) {
      const opened = openCheckpoint(
        checkpoint.note,
        ring.verifiers,
        checkpointOrigin(logOrigin, orgId),
      );
      expect(toBase64(opened.rootHash)).toBe(await expectedRoot(db, orgId, checkpoint.treeSize));
      expect(opened.signatures[0]?.keyId).toBe(checkpoint.treeSize <= 30 ? oldKeyId : newKeyId);
    }
  });

  it("keeps the key in use when a changed key file cannot be used, and never logs key material", async () => {
    const privateLine = readFileSync(keyFile, "utf8")
      .split("\n")
      .find((line) => line.startsWith("PRIVATE+KEY+")) as string;
    const good = await readKeyRing(keyFile);
    const activeKeyId = signer.activeKeyId();
    expect(good.signer?.keyId).toBe(activeKeyId);
    const secret = "PRIVATE+KEY+rotation.test+00000000+AMalformedSecretSeedThatMustNotBeLogged";
    const lengthBefore = lines.length;
    writeFileSync(keyFile, `${privateLine.slice(0, -4)}\n${secret}\n`);
    await waitFor(
      async () => lines.slice(lengthBefore).filter((line) => line.includes("cannot be used")),
      (found) => found.length > 0,
    );
    const next = await checkpointCovering(db, orgId, await write(5));
    expect(openCheckpoint(next.note, good.verifiers).signatures[0]?.keyId).toBe(activeKeyId);
    expect(signer.activeKeyId()).toBe(activeKeyId);
    const logged = lines.join("\n");
    expect(logged).not.toContain("PRIVATE");
    // The key itself: everything after `PRIVATE+KEY+<name>+<hash>+` (its base64 may hold a
    // `+`, and may end with one: the last `+`-piece alone was empty 1 time in 64).
    const keyMaterial = privateLine.split("+").slice(4).join("+");
    expect(keyMaterial.length).toBeGreaterThan(40);
    expect(logged).not.toContain(keyMaterial);
    expect(logged).not.toContain("AMalformedSecret");
    // Put the good file back for the next test.
    writeFileSync(keyFile, `${privateLine}\n`);
  });

  it("survives a database outage: logs it once, retries, and catches up when the database is back", async () => {
    const size = await write(10);
    await checkpointCovering(db, orgId, size);
    const lengthBefore = lines.length;
    await postgres.stop();
    await waitFor(
      async () => lines.slice(lengthBefore).filter((line) => line.includes("cannot list")),
      (found) => found.length > 0,
    );
    await postgres.start();
    const next = await checkpointCovering(db, orgId, await write(7));
    expect(next.treeSize).toBe(size + 7);
    const during = lines.slice(lengthBefore);
    expect(during.some((line) => line.includes("recovered"))).toBe(true);
    // Passes ran every 50 ms through the outage; each distinct failure was logged once.
    const failures = during.filter((line) => line.includes('"level":"error"'));
    expect(new Set(failures).size).toBe(failures.length);
  }, 60_000);

  it("builds each organisation alone once a shared build fails, so one log it cannot read holds back no other", async () => {
    // This test's own signer starts once the unreadable entry is in place.
    await signer.close();
    const good = [newId("org"), newId("org"), newId("org")];
    const bad = newId("org");
    for (const id of [...good, bad]) {
      await writeAuditEntries(
        db,
        Array.from({ length: 3 }, (_, i) => auditEntryRow(id, { id: `evt_iso${i}` })),
      );
    }
    // A time no JavaScript Date can hold, written behind the triggers' back: reading the entry
    // throws, and with it the whole build that shares a statement with it.
    await bypassingAppendOnly(
      driversOf(db).pool,
      "UPDATE audit_entries SET occurred_at = 'infinity' WHERE org_id = $1 AND seq = 2",
      [bad],
    );
    const lengthBefore = lines.length;
    signer = await startCheckpointSigner({ db, logger, keyFile, logOrigin, intervalMs: 50 });
    for (const id of good) expect((await checkpointCovering(db, id, 3)).treeSize).toBe(3);
    expect(lines.slice(lengthBefore).some((line) => line.includes("building each alone"))).toBe(
      true,
    );
    // Its own build fails and says so (it may come after the others': order is the listing's).
    await waitFor(
      async () =>
        lines
          .slice(lengthBefore)
          .filter((line) => line.includes("could not extend a log") && line.includes(bad)),
      (found) => found.length > 0,
    );
    expect(await readCheckpoint(db, bad)).toBeNull();
  });
});
