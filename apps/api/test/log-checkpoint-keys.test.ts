import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type Database, insertAuditEntries, purgeOrganisationLog } from "@auditlog/db";
import { auditEntryRow, createTestDatabase } from "@auditlog/db/testing";
import type { CheckpointKeys, ConsistencyProof, LogCheckpoint } from "@auditlog/events";
import {
  createKeyRing,
  formatVerifierKeyRing,
  type KeyRing,
  type NoteSigner,
  rotateKeyRing,
  toBase64,
} from "@auditlog/tlog";
import { GoInterop } from "@auditlog/tlog/go-interop";
import { advanceLogTree } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApiEnv } from "../src/env.ts";
import { createServices } from "../src/services.ts";
import { CheckpointKeyFileError, loadCheckpointKeys } from "../src/transparency/checkpoint-keys.ts";
import { expectConsistencyVerifies, verifyNoteByHand } from "./support/log-proof-checks.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

// The API's checkpoint keys come from CHECKPOINT_KEY_FILE, not from the database: a rotation is
// published without a restart, retired keys stay published so that old checkpoints still
// verify, and the API refuses to start without a usable file.

const run = promisify(execFile);
const apiDir = join(dirname(fileURLToPath(import.meta.url)), "..");
const logOrigin = "auditlog.localhost";
const keyName = "rotation.example";

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "auditlog-checkpoint-keys-"));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** A logger that keeps what it is told. */
function recordingLogger() {
  const lines: { level: string; message: string; fields?: Record<string, unknown> }[] = [];
  return {
    lines,
    info: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: "info", message, ...(fields ? { fields } : {}) }),
    warn: (message: string, fields?: Record<string, unknown>) =>
      lines.push({ level: "warn", message, ...(fields ? { fields } : {}) }),
  };
}

describe("key rotation", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let db: Database;
  let go: GoInterop;
  let keyFile: string;
  let first: KeyRing;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;

  const append = async (count: number, signer: NoteSigner) => {
    for (let i = 0; i < count; i++) {
      await insertAuditEntries(db, [auditEntryRow(org.id, { description: `rotation ${i}` })]);
    }
    return advanceLogTree(db, org.id, { signer, logOrigin });
  };
  const publishedKeys = async () =>
    (await getJson<CheckpointKeys>(stack.app, "/v1/checkpoint-keys", null)).body.keys;

  beforeAll(async () => {
    keyFile = join(dir, "checkpoint-keys");
    first = await createKeyRing(keyFile, keyName);
    stack = await startTestApi({ CHECKPOINT_KEY_FILE: keyFile });
    db = createTestDatabase();
    go = GoInterop.start();
    org = (await createOrgWithKey("team", "rotation")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
  }, 120_000);

  afterAll(async () => {
    if (org) await purgeOrganisationLog(db, org.id);
    await go?.close();
    await db?.close();
    await stack?.services.close();
  });

  it("publishes both keys after a rotation, without a restart, and old checkpoints still verify", async () => {
    const oldSigner = first.signer as NoteSigner;
    expect((await append(3, oldSigner)).treeSize).toBe(3);
    expect((await append(2, oldSigner)).treeSize).toBe(5);
    expect(await publishedKeys()).toEqual([
      expect.objectContaining({ keyId: oldSigner.keyId, active: true }),
    ]);

    const oldPrivateLine = (await readFile(keyFile, "utf8"))
      .split("\n")
      .find((line) => line.startsWith("PRIVATE+KEY+"));
    expect(oldPrivateLine).toBeDefined();
    const rotated = await rotateKeyRing(keyFile);
    const newSigner = rotated.signer as NoteSigner;
    expect(newSigner.keyId).not.toBe(oldSigner.keyId);
    // The old private key has left the file; its public line stays.
    const rotatedText = await readFile(keyFile, "utf8");
    expect(rotatedText).not.toContain(oldPrivateLine);
    expect(rotatedText).toContain(oldSigner.verifierKey);
    const keys = await waitFor(publishedKeys, (k) => k.length === 2, 15_000);
    expect(keys).toEqual([
      {
        name: keyName,
        keyId: oldSigner.keyId,
        algorithm: "Ed25519",
        publicKey: toBase64(oldSigner.publicKey),
        verifierKey: oldSigner.verifierKey,
        active: false,
      },
      {
        name: keyName,
        keyId: newSigner.keyId,
        algorithm: "Ed25519",
        publicKey: toBase64(newSigner.publicKey),
        verifierKey: newSigner.verifierKey,
        active: true,
      },
    ]);

    expect((await append(2, newSigner)).treeSize).toBe(7);
    const signedBy = { 3: oldSigner, 5: oldSigner, 7: newSigner } as const;
    const roots: Record<number, string> = {};
    for (const [size, signer] of Object.entries(signedBy)) {
      const { status, body } = await getJson<LogCheckpoint>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs/checkpoint?treeSize=${size}`,
        admin,
      );
      expect(status).toBe(200);
      expect(verifyNoteByHand(body.note, keys).verifiedBy).toEqual([
        { name: keyName, keyId: signer.keyId },
      ]);
      const opened = await go.ok({
        op: "open",
        note: body.note,
        keys: keys.map((k) => k.verifierKey),
      });
      expect(opened.sigs).toEqual([{ name: keyName, keyId: signer.keyId }]);
      roots[Number(size)] = body.rootHash;
    }
    // Why retired keys stay published: the new key alone does not verify the old checkpoints.
    const oldNote = (
      await getJson<LogCheckpoint>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs/checkpoint?treeSize=3`,
        admin,
      )
    ).body.note;
    expect(() => verifyNoteByHand(oldNote, keys.slice(1))).toThrow(/no signature/);

    // And the log only grew across the rotation.
    const { body: proof } = await getJson<ConsistencyProof>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs/consistency?from=3&to=7`,
      admin,
    );
    await expectConsistencyVerifies(go, proof, roots[3] as string, roots[7] as string);

    // A verifier-only copy of the file publishes the same keys.
    const copy = join(dir, "verifier-keys");
    await writeFile(copy, formatVerifierKeyRing(rotated));
    expect(await readFile(copy, "utf8")).not.toContain("PRIVATE");
    const fromCopy = loadCheckpointKeys(copy, recordingLogger());
    try {
      expect(fromCopy.keys()).toEqual(keys);
    } finally {
      fromCopy.close();
    }
  }, 60_000);
});

describe("the key file", () => {
  it("keeps the keys last read when a change does not parse, and never logs key material", async () => {
    const path = join(dir, "reloaded");
    const ring = await createKeyRing(path, keyName);
    const original = await readFile(path, "utf8");
    const logger = recordingLogger();
    const directory = loadCheckpointKeys(path, logger);
    try {
      const before = directory.keys();
      expect(before.map((k) => k.keyId)).toEqual([ring.signer?.keyId]);
      const secret = "PRIVATE+KEY+leaked+0badc0de+c2VjcmV0LW1hdGVyaWFs";
      await writeFile(path, `${original}${secret}\n`);
      await waitFor(
        async () => logger.lines.filter((l) => l.level === "warn").length,
        (n) => n > 0,
        15_000,
      );
      expect(directory.keys()).toEqual(before);
      // Valid again, with a second key: published.
      const second = await createKeyRing(join(dir, "second"), "second.example");
      await writeFile(path, `${original}${second.signer?.verifierKey}\n`);
      await waitFor(
        async () => directory.keys().length,
        (n) => n === 2,
        15_000,
      );
      expect(directory.keys().map((k) => [k.keyId, k.active])).toEqual([
        [ring.signer?.keyId, true],
        [second.signer?.keyId, false],
      ]);
      const logged = JSON.stringify(logger.lines);
      expect(logged).toContain("line ");
      expect(logged).not.toContain("c2VjcmV0LW1hdGVyaWFs");
      expect(logged).not.toContain("PRIVATE");
    } finally {
      directory.close();
    }
  }, 60_000);

  it("refuses to start the API when the file is missing or not a key file, naming it and the fix", async () => {
    const missing = join(dir, "no-such-file");
    const badFile = join(dir, "bad");
    await writeFile(badFile, "# keys\nPRIVATE+KEY+x+00000000+c2VjcmV0LW1hdGVyaWFs\n");
    const cases = [
      [missing, /does not exist/],
      [dir, /is a directory/],
      [badFile, /line 2 of the key file is not a key/],
    ] as const;
    for (const [file, why] of cases) {
      const env = loadApiEnv({ ...process.env, CHECKPOINT_KEY_FILE: file });
      let refused: unknown;
      try {
        const services = createServices(env);
        await services.close();
      } catch (error) {
        refused = error;
      }
      expect(refused, file).toBeInstanceOf(CheckpointKeyFileError);
      const message = (refused as Error).message;
      expect(message).toContain(file);
      expect(message).toMatch(why);
      expect(message).toContain("pnpm auditlog checkpoint-key create");
      expect(message).not.toContain("c2VjcmV0");
    }

    // The real server: one line on stderr, exit 1, before listening anywhere.
    const boot = await run(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: apiDir,
      env: { ...process.env, PORT: "0", CHECKPOINT_KEY_FILE: missing },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({
        code: error.code ?? -1,
        stderr: error.stderr ?? "",
      }),
    );
    expect(boot.code).toBe(1);
    expect(boot.stderr.trim().split("\n")).toEqual([
      `auditlog API not started: cannot use the checkpoint key file ${missing} (CHECKPOINT_KEY_FILE): it does not exist; create one with \`pnpm auditlog checkpoint-key create\``,
    ]);
  }, 90_000);
});
