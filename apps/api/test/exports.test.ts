import { type ChildProcess, spawn } from "node:child_process";
import { readdir, rm, stat } from "node:fs/promises";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { gunzipSync } from "node:zlib";
import {
  type AuditEntryRow,
  createExport,
  type ExportRecord,
  getExportById,
  insertAuditEntries,
  purgeOrganisationLog,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase } from "@auditlog/db/testing";
import {
  type AuditEntryPage,
  type AuditExport,
  auditEntrySchema,
  type ExportLink,
  exportSchema,
  type RealtimeMessage,
  realtimeChannels,
  realtimeMessageSchema,
} from "@auditlog/events";
import type { startWorker } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { exportDownloadPath, signExportLink } from "../src/exports/export-links.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  exitOf,
  getJson,
  insertRows,
  startTestApi,
  startTestWorker,
  testRedis,
  waitFor,
} from "./support/test-stack.ts";

const repoRoot = fileURLToPath(new URL("../../../", import.meta.url));
const linkSecret = "exports-test-link-secret-0123456789";
/**
 * Entries of the large export (200,000 by default). The Redis Cluster run
 * (vitest.cluster.config.ts) sets `EXPORTS_TEST_ROWS` lower: it re-runs this suite for the
 * queue, pub/sub and lock paths, which a smaller build takes as well, not for PostgreSQL's or the
 * file writer's handling of size, which the single-Redis run covers.
 */
const bigTotal = Number(process.env.EXPORTS_TEST_ROWS ?? 200_000);
if (!Number.isSafeInteger(bigTotal) || bigTotal < 30_000) {
  // Below that, a build may end between two progress reports (every 10,000 entries) and the
  // stop/kill cases could not catch one mid-file.
  throw new Error(`EXPORTS_TEST_ROWS must be an integer of at least 30000, not ${bigTotal}`);
}
const bigLabel = bigTotal.toLocaleString("en-US");
const hyperlink = '=HYPERLINK("http://x","y")';

type Stack = Awaited<ReturnType<typeof startTestApi>>;

/** A strict RFC 4180 reader: quoted fields, doubled quotes, CRLF-terminated records. */
function parseCsv(text: string): string[][] {
  const records: string[][] = [];
  let record: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (quoted) {
      if (char === '"' && text[i + 1] === '"') {
        field += '"';
        i++;
      } else if (char === '"') quoted = false;
      else field += char;
    } else if (char === '"' && field === "") quoted = true;
    else if (char === ",") {
      record.push(field);
      field = "";
    } else if (char === "\r" && text[i + 1] === "\n") {
      record.push(field);
      records.push(record);
      record = [];
      field = "";
      i++;
    } else field += char;
  }
  if (field !== "" || record.length > 0) throw new Error("last record not terminated by CRLF");
  return records;
}

function request(
  stack: Stack,
  path: string,
  token: string | null,
  init: { method?: string; body?: unknown } = {},
) {
  return stack.app.request(path, {
    method: init.method ?? "GET",
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(init.body !== undefined ? { "content-type": "application/json" } : {}),
    },
    ...(init.body !== undefined ? { body: JSON.stringify(init.body) } : {}),
  });
}

async function requestExport(stack: Stack, orgSlug: string, token: string, body: unknown) {
  const response = await request(stack, `/v1/orgs/${orgSlug}/exports`, token, {
    method: "POST",
    body,
  });
  expect(response.status).toBe(202);
  return exportSchema.parse(await response.json());
}

async function waitForExport(
  stack: Stack,
  orgSlug: string,
  token: string,
  id: string,
  timeoutMs = 240_000,
): Promise<AuditExport> {
  return waitFor(
    async () =>
      (await getJson<AuditExport>(stack.app, `/v1/orgs/${orgSlug}/exports/${id}`, token)).body,
    (e) => e.status !== "queued" && e.status !== "running",
    timeoutMs,
  );
}

async function downloadText(response: Response): Promise<string> {
  expect(response.status).toBe(200);
  return gunzipSync(Buffer.from(await response.arrayBuffer())).toString("utf8");
}

async function seedBig(orgId: string, total: number) {
  const db = createTestDatabase();
  const { pool } = driversOf(db);
  const base = Date.parse("2026-06-01T00:00:00Z");
  try {
    for (let start = 0; start < total; start += 5_000) {
      const rows: AuditEntryRow[] = [];
      for (let i = start; i < Math.min(total, start + 5_000); i++) {
        rows.push(
          entryRow(orgId, {
            occurredAt: new Date(base - i * 1000),
            actorName: `user${i % 13}`,
            targetId: `acme/model-${i}`,
            targetName: `acme/model-${i}`,
            description: `user${i % 13} created model acme/model-${i}`,
            data: { repo: { type: "model", name: `acme/model-${i}` } },
          }),
        );
      }
      await insertAuditEntries(db, rows);
    }
    // What autovacuum does after a bulk load: without fresh statistics the planner may sort
    // each keyset page instead of walking the index.
    await pool.query("ANALYZE audit_entries");
  } finally {
    await db.close();
  }
}

function spawnWorker(stack: Stack): ChildProcess {
  // node itself, not the tsx wrapper: SIGKILL must hit the process doing the work.
  return spawn(process.execPath, ["--import", "tsx", "apps/worker/src/main.ts"], {
    cwd: repoRoot,
    env: {
      ...process.env,
      ...stack.workerEnv(),
      WORKER_CONCURRENCY: "1",
      EXPORT_CONCURRENCY: "1",
      // A short lock so the restarted worker reclaims the dead one's build within seconds.
      WORKER_LOCK_DURATION_MS: "2000",
      LOG_LEVEL: "error",
    },
    stdio: ["ignore", "ignore", "inherit"],
  });
}

describe("background exports", () => {
  let stack: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  const db = createTestDatabase();
  const { pool } = driversOf(db);
  const subscriber = testRedis("subscriber");
  const progress: RealtimeMessage[] = [];
  const finished: ExportRecord[] = [];
  let big: { org: { id: string; slug: string }; admin: { user: { id: string }; token: string } };

  beforeAll(async () => {
    stack = await startTestApi({ EXPORT_LINK_SECRET: linkSecret });
    worker = await startTestWorker(
      stack,
      { EXPORT_EXPIRY_INTERVAL_MS: "1000" },
      {
        onExportFinished: async (record) => {
          finished.push(record);
        },
      },
    );
    await subscriber.subscribe(realtimeChannels.exportProgress);
    subscriber.on("message", (_channel, message: string) => {
      progress.push(realtimeMessageSchema.parse(JSON.parse(message)));
    });
    const { org } = await createOrgWithKey("team", "bigexp");
    big = { org, admin: await createMemberWithToken(org.slug, "admin") };
    await seedBig(org.id, bigTotal);
  }, 300_000);

  afterAll(async () => {
    await worker?.stop();
    subscriber.disconnect();
    await stack.services.exportQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.close();
    await rm(stack.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
    if (big) {
      // The big organisation's rows would otherwise pile up in the shared test database run after run.
      await purgeOrganisationLog(db, big.org.id);
      await pool.query("DELETE FROM organizations WHERE id = $1", [big.org.id]);
    }
    await db.close();
  }, 120_000);

  it(`builds ${bigLabel} entries as one JSON array and as NDJSON, with progress, the hook and the audit trail`, {
    timeout: 600_000,
  }, async () => {
    const { org, admin } = big;
    const json = await requestExport(stack, org.slug, admin.token, { format: "json" });
    const ndjson = await requestExport(stack, org.slug, admin.token, { format: "ndjson" });
    expect(json.status).toBe("queued");
    expect(json.requestedBy.id).toBe(admin.user.id);

    const jsonDone = await waitForExport(stack, org.slug, admin.token, json.id);
    expect(jsonDone.status).toBe("ready");
    expect(jsonDone.rowsWritten).toBe(bigTotal);
    expect(jsonDone.estimatedTotal).toBe(bigTotal);
    expect(jsonDone.fileSize).toBeGreaterThan(0);
    expect(Date.parse(jsonDone.expiresAt ?? "")).toBeGreaterThan(Date.now() + 6 * 24 * 3600_000);

    const response = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${json.id}/download`,
      admin.token,
    );
    expect(response.headers.get("content-type")).toBe("application/gzip");
    expect(response.headers.get("content-disposition")).toBe(
      `attachment; filename="${org.slug}-audit-log-${json.id}.json.gz"`,
    );
    let entries: unknown[] | null = JSON.parse(await downloadText(response));
    expect(Array.isArray(entries)).toBe(true);
    expect(entries).toHaveLength(bigTotal);
    // Newest first, in the query API's shape.
    const first = auditEntrySchema.parse(entries?.[0]);
    const last = auditEntrySchema.parse(entries?.[bigTotal - 1]);
    expect(first.occurredAt).toBe("2026-06-01T00:00:00.000Z");
    expect(last.target?.name).toBe(`acme/model-${bigTotal - 1}`);
    entries = null;

    const ndjsonDone = await waitForExport(stack, org.slug, admin.token, ndjson.id);
    expect(ndjsonDone.status).toBe("ready");
    expect(ndjsonDone.rowsWritten).toBe(bigTotal);
    // Downloaded through a signed link this time: no session needed.
    const linkResponse = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${ndjson.id}/link`,
      admin.token,
      { method: "POST" },
    );
    expect(linkResponse.status).toBe(200);
    const link = (await linkResponse.json()) as ExportLink;
    const expiresIn = Date.parse(link.expiresAt) - Date.now();
    expect(expiresIn).toBeGreaterThan(0);
    expect(expiresIn).toBeLessThanOrEqual(900_000);
    const url = new URL(link.url);
    const text = await downloadText(await stack.app.request(url.pathname + url.search));
    const lines = text.split("\n");
    expect(lines.pop()).toBe("");
    expect(lines).toHaveLength(bigTotal);
    expect(auditEntrySchema.parse(JSON.parse(lines[0] ?? "")).occurredAt).toBe(
      "2026-06-01T00:00:00.000Z",
    );

    // Live progress reached the requester's channel while it ran, then "ready".
    const mine = progress.flatMap((m) =>
      m.event === "export.progress" && m.data.exportId === json.id ? [m] : [],
    );
    expect(mine.every((m) => m.userId === admin.user.id)).toBe(true);
    expect(mine.some((m) => m.data.status === "running" && m.data.rowsWritten > 0)).toBe(true);
    expect(mine.at(-1)?.data).toMatchObject({
      status: "ready",
      rowsWritten: bigTotal,
      orgSlug: org.slug,
    });
    // The hook saw both finish.
    expect(finished.filter((r) => r.id === json.id || r.id === ndjson.id)).toHaveLength(2);
    expect(finished.find((r) => r.id === json.id)).toMatchObject({
      status: "ready",
      rowsWritten: bigTotal,
      orgSlug: org.slug,
    });

    // The requests and downloads are in the organisation's own log (hidden by default).
    const trail = await waitFor(
      async () =>
        (
          await pool.query<{ type: string; actor_id: string; data: Record<string, unknown> }>(
            `SELECT type, actor_id, data FROM audit_entries
               WHERE org_id = $1 AND type LIKE 'org.audit_log.%'`,
            [org.id],
          )
        ).rows,
      (rows) => rows.length >= 4,
      60_000,
    );
    expect(
      trail
        .filter((r) => r.type === "org.audit_log.export")
        .map((r) => r.data.exportId)
        .sort(),
    ).toEqual([json.id, ndjson.id].sort());
    const viaLink = trail.find(
      (r) => r.type === "org.audit_log.download" && r.data.via === "signed link",
    );
    expect(viaLink).toMatchObject({ actor_id: admin.user.id, data: { exportId: ndjson.id } });
    expect(
      trail.some((r) => r.type === "org.audit_log.download" && r.data.exportId === json.id),
    ).toBe(true);
  });

  it("neutralises spreadsheet formulas in CSV, then expires the file on schedule", {
    timeout: 120_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "csvexp");
    const admin = await createMemberWithToken(org.slug, "admin");
    await insertRows([
      entryRow(org.id, {
        description: hyperlink,
        actorName: "+mallory",
        targetName: "-evil",
        userAgent: "@agent",
        data: { note: hyperlink, "=key": "\tvalue" },
      }),
      entryRow(org.id, {
        occurredAt: new Date(Date.now() - 60_000),
        description: "plain, with comma",
      }),
    ]);
    const created = await requestExport(stack, org.slug, admin.token, { format: "csv" });
    const done = await waitForExport(stack, org.slug, admin.token, created.id, 60_000);
    expect(done).toMatchObject({ status: "ready", rowsWritten: 2 });

    const response = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${created.id}/download`,
      admin.token,
    );
    expect(response.headers.get("content-disposition")).toContain(".csv.gz");
    const records = parseCsv(await downloadText(response));
    const header = records[0] ?? [];
    expect(header).toEqual([
      "id",
      "occurredAt",
      "type",
      "category",
      "description",
      "actorType",
      "actorId",
      "actorName",
      "targetType",
      "targetId",
      "targetName",
      "ip",
      "country",
      "region",
      "city",
      "userAgent",
      "data",
      // Verifiable exports: what the leaf needs besides, and each record's own digest.
      "seq",
      "receivedAt",
      "hiddenByDefault",
      "actorAvatarUrl",
      "actorTokenRole",
      "actorTokenLast4",
      "oauthClientId",
      "oauthName",
      "commitmentSalt",
      "commitmentPersonal",
      "lineDigest",
    ]);
    expect(records).toHaveLength(3);
    const row = Object.fromEntries(header.map((name, i) => [name, records[1]?.[i] ?? ""]));
    expect(row.description).toBe(`'${hyperlink}`);
    expect(row.actorName).toBe("'+mallory");
    expect(row.targetName).toBe("'-evil");
    expect(row.userAgent).toBe("'@agent");
    expect(JSON.parse(row.data ?? "")).toEqual({ note: hyperlink, "=key": "\tvalue" });
    expect(records[2]?.[header.indexOf("description")]).toBe("plain, with comma");
    for (const record of records) {
      for (const cell of record) expect(cell).not.toMatch(/^[=+\-@\t\r]/);
    }

    // Expiry: once past expires_at the file is refused at once (410), and the scheduled sweep
    // deletes it and marks the export expired.
    const before = await getExportById(db, created.id);
    const file = join(stack.env.EXPORT_STORAGE_DIR, before?.storageKey ?? "missing");
    expect((await stat(file)).size).toBe(done.fileSize);
    await pool.query("UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1", [
      created.id,
    ]);
    const gone = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${created.id}/download`,
      admin.token,
    );
    expect(gone.status).toBe(410);
    const expired = await waitFor(
      () => getExportById(db, created.id),
      (record) => record?.status === "expired",
      30_000,
    );
    expect(expired?.status).toBe("expired");
    await expect(stat(file)).rejects.toMatchObject({ code: "ENOENT" });
    const status = await getJson<AuditExport>(
      stack.app,
      `/v1/orgs/${org.slug}/exports/${created.id}`,
      admin.token,
    );
    expect(status.body.status).toBe("expired");
    const link = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${created.id}/link`,
      admin.token,
      {
        method: "POST",
      },
    );
    expect(link.status).toBe(410);
  });

  it("exports exactly what the query API lists for the same q and filters", {
    timeout: 120_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "filterexp");
    const admin = await createMemberWithToken(org.slug, "admin");
    const base = Date.parse("2026-05-01T00:00:00Z");
    await insertRows(
      Array.from({ length: 90 }, (_, i) =>
        entryRow(org.id, {
          occurredAt: new Date(base - i * 60_000),
          type: i % 3 === 0 ? "org.change_role" : "repo.create",
          category: i % 3 === 0 ? "membership" : "content",
          actorName: i % 2 === 0 ? "bob" : "alice",
          actorId: i % 2 === 0 ? "usr_bob" : "usr_alice",
          countryCode: i % 4 === 0 ? "DE" : "FR",
        }),
      ),
    );
    const q = "type:repo.* -author:bob";
    const from = new Date(base - 70 * 60_000).toISOString();
    const params = new URLSearchParams({ q, country: "FR", from, limit: "200" });
    const listed = await getJson<AuditEntryPage>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs?${params}`,
      admin.token,
    );
    expect(listed.status).toBe(200);
    expect(listed.body.nextCursor).toBeNull();
    const expected = listed.body.entries.map((e) => e.id);
    expect(expected.length).toBeGreaterThan(5);
    expect(expected.length).toBeLessThan(90);

    const created = await requestExport(stack, org.slug, admin.token, {
      format: "ndjson",
      q,
      filters: { country: "FR", from },
    });
    expect(created.query).toContain("type:repo.*");
    expect(created.query).toContain("country:FR");
    const done = await waitForExport(stack, org.slug, admin.token, created.id, 60_000);
    expect(done).toMatchObject({
      status: "ready",
      rowsWritten: expected.length,
      estimatedTotal: expected.length,
    });
    const text = await downloadText(
      await request(stack, `/v1/orgs/${org.slug}/exports/${created.id}/download`, admin.token),
    );
    const ids = text
      .split("\n")
      .filter(Boolean)
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(expected);

    // The list: newest first.
    const second = await requestExport(stack, org.slug, admin.token, { format: "json" });
    const list = await getJson<{ exports: AuditExport[] }>(
      stack.app,
      `/v1/orgs/${org.slug}/exports`,
      admin.token,
    );
    expect(list.status).toBe(200);
    expect(list.body.exports.map((e) => e.id)).toEqual([second.id, created.id]);
  });

  it("validates the request with the query grammar, naming the fields", async () => {
    const { org } = await createOrgWithKey("team", "badexp");
    const admin = await createMemberWithToken(org.slug, "admin");
    const post = (body: unknown) =>
      request(stack, `/v1/orgs/${org.slug}/exports`, admin.token, { method: "POST", body });
    const details = async (response: Response) => {
      expect(response.status).toBe(400);
      return (
        (await response.json()) as { error: { details: { path: string }[] } }
      ).error.details.map((d) => d.path);
    };
    expect(await details(await post({ format: "xml" }))).toEqual(["format"]);
    expect(await details(await post({ format: "json", q: "type:nope.*" }))).toEqual(["q"]);
    expect(
      await details(await post({ format: "json", filters: { country: "ZZ", from: "yesterday" } })),
    ).toEqual(["filters.country", "filters.from"]);
    expect(await details(await post({ format: "json", filters: { colour: "red" } }))).toEqual([
      "filters",
    ]);
    const list = await getJson<{ exports: unknown[] }>(
      stack.app,
      `/v1/orgs/${org.slug}/exports`,
      admin.token,
    );
    expect(list.body.exports).toHaveLength(0);
  });

  it("keeps each organisation's exports to its own admins", { timeout: 60_000 }, async () => {
    const { org: orgA } = await createOrgWithKey("team", "expa");
    const { org: orgB } = await createOrgWithKey("team", "expb");
    const adminA = await createMemberWithToken(orgA.slug, "admin");
    const adminB = await createMemberWithToken(orgB.slug, "admin");
    const writer = await createMemberWithToken(orgA.slug, "write");
    await insertRows([entryRow(orgA.id)]);
    const created = await requestExport(stack, orgA.slug, adminA.token, { format: "json" });
    expect((await waitForExport(stack, orgA.slug, adminA.token, created.id, 60_000)).status).toBe(
      "ready",
    );

    // Another organisation's admin, under their own organisation's path: not found.
    const base = `/v1/orgs/${orgB.slug}/exports/${created.id}`;
    expect((await request(stack, base, adminB.token)).status).toBe(404);
    expect((await request(stack, `${base}/download`, adminB.token)).status).toBe(404);
    expect((await request(stack, `${base}/link`, adminB.token, { method: "POST" })).status).toBe(
      404,
    );
    const listB = await getJson<{ exports: AuditExport[] }>(
      stack.app,
      `/v1/orgs/${orgB.slug}/exports`,
      adminB.token,
    );
    expect(listB.body.exports).toEqual([]);
    // …and under the owner's path, where they are no member: not found either.
    expect(
      (await request(stack, `/v1/orgs/${orgA.slug}/exports/${created.id}`, adminB.token)).status,
    ).toBe(404);

    // Members who are not admins: forbidden.
    const pathA = `/v1/orgs/${orgA.slug}/exports`;
    expect(
      (await request(stack, pathA, writer.token, { method: "POST", body: { format: "json" } }))
        .status,
    ).toBe(403);
    expect((await request(stack, pathA, writer.token)).status).toBe(403);
    expect((await request(stack, `${pathA}/${created.id}/download`, writer.token)).status).toBe(
      403,
    );
    expect((await request(stack, pathA, null)).status).toBe(401);
  });

  it("refuses expired and tampered links, and exports that are not ready", {
    timeout: 60_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "linkexp");
    const admin = await createMemberWithToken(org.slug, "admin");
    await insertRows([entryRow(org.id)]);
    const created = await requestExport(stack, org.slug, admin.token, { format: "ndjson" });
    expect((await waitForExport(stack, org.slug, admin.token, created.id, 60_000)).status).toBe(
      "ready",
    );

    const future = Math.floor(Date.now() / 1000) + 600;
    const good = exportDownloadPath(
      { exportId: created.id, orgId: org.id, issuedBy: admin.user.id, expires: future },
      linkSecret,
    );
    expect((await stack.app.request(good)).status).toBe(200);

    const message = async (response: Response) => {
      expect(response.status).toBe(403);
      return ((await response.json()) as { error: { message: string } }).error.message;
    };
    const past = Math.floor(Date.now() / 1000) - 1;
    const expiredPath = exportDownloadPath(
      { exportId: created.id, orgId: org.id, issuedBy: admin.user.id, expires: past },
      linkSecret,
    );
    expect(await message(await stack.app.request(expiredPath))).toMatch(/expired/);

    const signature = signExportLink(
      { exportId: created.id, orgId: org.id, issuedBy: admin.user.id, expires: future },
      linkSecret,
    );
    const tampered = `${signature.slice(0, -1)}${signature.endsWith("A") ? "B" : "A"}`;
    const base = `/v1/export-downloads/${created.id}`;
    expect(
      await message(
        await stack.app.request(
          `${base}?expires=${future}&by=${admin.user.id}&signature=${tampered}`,
        ),
      ),
    ).toMatch(/signature/);
    // A later expiry under the same signature, or another key, or nothing at all.
    expect(
      await message(
        await stack.app.request(
          `${base}?expires=${future + 60}&by=${admin.user.id}&signature=${signature}`,
        ),
      ),
    ).toMatch(/signature/);
    const otherKey = exportDownloadPath(
      { exportId: created.id, orgId: org.id, issuedBy: admin.user.id, expires: future },
      "some-other-secret-0123456789",
    );
    expect(await message(await stack.app.request(otherKey))).toMatch(/signature/);
    expect((await stack.app.request(base)).status).toBe(403);

    // Not ready yet: 409 for the download and for a link.
    const queued = await createExport(db, {
      orgId: org.id,
      requestedBy: { id: admin.user.id, name: admin.user.name },
      format: "json",
      query: "",
      includeHidden: false,
    });
    const path = `/v1/orgs/${org.slug}/exports/${queued.id}`;
    expect((await request(stack, `${path}/download`, admin.token)).status).toBe(409);
    expect((await request(stack, `${path}/link`, admin.token, { method: "POST" })).status).toBe(
      409,
    );
    const queuedLink = exportDownloadPath(
      { exportId: queued.id, orgId: org.id, issuedBy: admin.user.id, expires: future },
      linkSecret,
    );
    expect((await stack.app.request(queuedLink)).status).toBe(409);
  });

  it("answers 503 at once when Redis is down, leaving no export behind", {
    timeout: 60_000,
  }, async () => {
    const down = await startTestApi({
      REDIS_URL: "redis://127.0.0.1:1",
      REDIS_CLUSTER_NODES: "",
      REDIS_COMMAND_TIMEOUT_MS: "300",
    });
    try {
      const { org } = await createOrgWithKey("team", "downexp");
      const admin = await createMemberWithToken(org.slug, "admin");
      const response = await request(down, `/v1/orgs/${org.slug}/exports`, admin.token, {
        method: "POST",
        body: { format: "json" },
      });
      expect(response.status).toBe(503);
      const { rows } = await pool.query("SELECT 1 FROM exports WHERE org_id = $1", [org.id]);
      expect(rows).toHaveLength(0);
    } finally {
      await down.services.close();
    }
  });

  it("puts a build back when its worker stops gracefully mid-COPY, and the next worker finishes it", {
    timeout: 600_000,
  }, async () => {
    const stopStack = await startTestApi({ EXPORT_LINK_SECRET: linkSecret });
    let second: Awaited<ReturnType<typeof startWorker>> | undefined;
    try {
      const { org, admin } = big;
      const created = await requestExport(stopStack, org.slug, admin.token, { format: "ndjson" });
      const first = await startTestWorker(stopStack, { EXPORT_CONCURRENCY: "1" });
      const running = await waitFor(
        () => getExportById(db, created.id),
        (r) => r?.status === "running" && r.rowsWritten > 0,
        240_000,
      );
      expect(running?.status).toBe("running");
      // stop() ends the worker's pool: it would hang if the COPY's connection were not released.
      await first.stop();
      const afterStop = await getExportById(db, created.id);
      expect(afterStop?.status).toBe("running");
      expect(afterStop?.rowsWritten).toBeLessThan(bigTotal);
      // Back in the queue: every build carries a priority (fairness between organisations), so
      // BullMQ keeps it among the prioritized waiting jobs.
      expect(await stopStack.services.exportQueue.getJobState(created.id)).toBe("prioritized");

      second = await startTestWorker(stopStack, { EXPORT_CONCURRENCY: "1" });
      const done = await waitFor(
        () => getExportById(db, created.id),
        (r) => r?.status !== "running" && r?.status !== "queued",
        300_000,
      );
      expect(done).toMatchObject({ status: "ready", rowsWritten: bigTotal });
      const lines = (
        await downloadText(
          await request(
            stopStack,
            `/v1/orgs/${org.slug}/exports/${created.id}/download`,
            admin.token,
          ),
        )
      )
        .split("\n")
        .filter(Boolean);
      expect(new Set(lines.map((line) => (JSON.parse(line) as { id: string }).id)).size).toBe(
        bigTotal,
      );
      const files = await readdir(join(stopStack.env.EXPORT_STORAGE_DIR, org.id));
      expect(files).toEqual([(done?.storageKey ?? "").split("/").at(-1)]);
    } finally {
      await second?.stop();
      await stopStack.services.exportQueue.obliterate({ force: true }).catch(() => {});
      await stopStack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
      await stopStack.services.close();
      await rm(stopStack.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
    }
  });

  it("finishes a build whose worker was killed with SIGKILL mid-file: exact count, valid file", {
    timeout: 600_000,
  }, async () => {
    const crashStack = await startTestApi({ EXPORT_LINK_SECRET: linkSecret });
    const children: ChildProcess[] = [];
    try {
      const { org, admin } = big;
      const created = await requestExport(crashStack, org.slug, admin.token, { format: "json" });
      const first = spawnWorker(crashStack);
      children.push(first);
      const running = await waitFor(
        () => getExportById(db, created.id),
        (r) => r?.status === "running" && r.rowsWritten > 0,
        240_000,
      );
      first.kill("SIGKILL");
      await exitOf(first);
      expect(running?.status).toBe("running");
      const atCrash = await getExportById(db, created.id);
      expect(atCrash?.status).toBe("running");
      expect(atCrash?.rowsWritten).toBeLessThan(bigTotal);

      const second = spawnWorker(crashStack);
      children.push(second);
      const done = await waitFor(
        () => getExportById(db, created.id),
        (r) => r?.status !== "running" && r?.status !== "queued",
        300_000,
      );
      expect(done).toMatchObject({ status: "ready", rowsWritten: bigTotal });
      expect(done?.attempt).toBeGreaterThanOrEqual(2);
      second.kill("SIGTERM");
      expect(await exitOf(second)).toBe(0);

      const text = await downloadText(
        await request(
          crashStack,
          `/v1/orgs/${org.slug}/exports/${created.id}/download`,
          admin.token,
        ),
      );
      const entries = JSON.parse(text) as { id: string }[];
      expect(entries).toHaveLength(bigTotal);
      expect(new Set(entries.map((e) => e.id)).size).toBe(bigTotal);
      // Only the finished file is left: no partial, nothing of the killed attempt.
      const files = await readdir(join(crashStack.env.EXPORT_STORAGE_DIR, org.id));
      expect(files).toEqual([(done?.storageKey ?? "").split("/").at(-1)]);
    } finally {
      for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
      await crashStack.services.exportQueue.obliterate({ force: true }).catch(() => {});
      await crashStack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
      await crashStack.services.close();
      await rm(crashStack.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
    }
  });
});
