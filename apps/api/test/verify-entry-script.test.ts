import { execFile } from "node:child_process";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import {
  type Database,
  purgeOrganisationLog,
  readEntriesBySeq,
  writeAuditEntries,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { auditEntryRow, bypassingAppendOnly, createTestDatabase } from "@auditlog/db/testing";
import { generateSignerKey, parseSignerKey } from "@auditlog/tlog";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen } from "./support/sse-client.ts";
import { createMemberWithToken, createOrgWithKey, startTestApi } from "./support/test-stack.ts";

// The README's standalone auditor script, run as an auditor would: a separate Node process
// talking HTTP to the real API, trusting only the key it was given.

const script = fileURLToPath(new URL("../../../scripts/verify-entry.mjs", import.meta.url));
const run = promisify(execFile);
const signing = { signer: testCheckpointSigner, logOrigin: "auditlog.localhost" };

let stack: Awaited<ReturnType<typeof startTestApi>>;
let http: Awaited<ReturnType<typeof listen>>;
let db: Database;
let dir: string;

beforeAll(async () => {
  stack = await startTestApi();
  http = await listen(stack.app);
  db = createTestDatabase();
  dir = await mkdtemp(join(tmpdir(), "verify-entry-"));
});
afterAll(async () => {
  await http.close();
  await stack.services.close();
  await db.close();
  await rm(dir, { recursive: true, force: true });
});

async function verifyEntry(args: string[], token: string) {
  try {
    const { stdout } = await run(process.execPath, [script, "--api", http.url, "--json", ...args], {
      env: { ...process.env, AUDITLOG_TOKEN: token },
    });
    return { code: 0, result: JSON.parse(stdout) };
  } catch (error) {
    const failed = error as { code: number; stdout: string };
    return { code: failed.code, result: JSON.parse(failed.stdout) };
  }
}

function rows(orgId: string, from: number, count: number, label: string) {
  return Array.from({ length: count }, (_, i) =>
    auditEntryRow(orgId, {
      id: `evt_${label}${String(from + i).padStart(4, "0")}`,
      description: `${label} entry ${from + i}`,
      actorName: "Zoë",
      data: { n: from + i, nested: { list: [1, "two", null] } },
    }),
  );
}

describe("scripts/verify-entry.mjs against the real API", () => {
  it("verifies entries and the log's growth with a pinned key, and fails on a wrong key, a changed entry and a rewritten log", {
    timeout: 120_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "script");
    const { token } = await createMemberWithToken(org.slug, "admin");
    const key = testCheckpointSigner.verifierKey;
    const state = join(dir, `${org.slug}.checkpoint`);
    try {
      await writeAuditEntries(db, rows(org.id, 1, 20, "a"));
      await advanceLogTree(db, org.id, signing);
      const first = await verifyEntry(
        ["--org", org.slug, "--entry", "evt_a0005", "--key", key, "--state", state],
        token,
      );
      expect(first).toEqual({
        code: 0,
        result: expect.objectContaining({
          ok: true,
          treeSize: 20,
          entry: expect.objectContaining({ seq: 5 }),
        }),
      });

      await writeAuditEntries(db, rows(org.id, 21, 20, "a"));
      await advanceLogTree(db, org.id, signing);
      const grown = await verifyEntry(
        ["--org", org.slug, "--entry", "evt_a0035", "--key", key, "--state", state],
        token,
      );
      expect(grown.code).toBe(0);
      expect(grown.result).toMatchObject({
        ok: true,
        treeSize: 40,
        consistentWith: 20,
        entry: { seq: 35 },
      });

      // A key the auditor did not pin: the server's signature proves nothing.
      const stranger = parseSignerKey(generateSignerKey("auditlog.localhost")).verifierKey;
      const wrongKey = await verifyEntry(["--org", org.slug, "--key", stranger], token);
      expect(wrongKey).toEqual({
        code: 1,
        result: { ok: false, error: expect.stringMatching(/does not verify|no signature/) },
      });

      // An entry changed in the database (trigger bypassed) no longer hashes to its leaf.
      await bypassingAppendOnly(
        driversOf(db).pool,
        "UPDATE audit_entries SET description = 'nothing happened' WHERE org_id = $1 AND id = 'evt_a0012'",
        [org.id],
      );
      const changed = await verifyEntry(
        ["--org", org.slug, "--entry", "evt_a0012", "--key", key],
        token,
      );
      expect(changed).toEqual({
        code: 1,
        result: { ok: false, error: expect.stringMatching(/evt_a0012 does not hash/) },
      });

      // The whole log rewritten and re-signed (as someone with the key could): the next run, holding
      // the checkpoint it saw before, refuses the new history.
      await purgeOrganisationLog(db, org.id);
      await writeAuditEntries(db, rows(org.id, 1, 40, "b"));
      await advanceLogTree(db, org.id, signing);
      expect((await readEntriesBySeq(db, org.id, 1, 1))[0]?.id).toBe("evt_b0001");
      const forked = await verifyEntry(["--org", org.slug, "--key", key, "--state", state], token);
      expect(forked).toEqual({
        code: 1,
        result: { ok: false, error: expect.stringMatching(/does not extend/) },
      });
    } finally {
      await purgeOrganisationLog(db, org.id);
    }
  });
});
