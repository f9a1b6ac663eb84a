import type { ChildProcess } from "node:child_process";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";
import {
  type AuditEntryRow,
  getExportById,
  insertAuditEntries,
  purgeOrganisationLog,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase } from "@auditlog/db/testing";
import { type AuditExport, type ExportLink, exportSchema } from "@auditlog/events";
import { S3TestServer, s3TestCredentials } from "@auditlog/streams/testing";
import type { startWorker } from "@auditlog/worker";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  exitOf,
  getJson,
  spawnTestWorker,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const linkSecret = "s3-exports-test-link-secret-0123456789";

/**
 * Exports through the API and the worker with EXPORT_STORAGE=s3, on an S3-compatible server
 * started here (s3rver behind a front that checks each request's SigV4): the worker uploads,
 * the API streams the object or redirects to a presigned URL, the sweep deletes it, and a worker
 * killed mid-upload leaves no object and the export is rebuilt by the next one.
 */
describe("exports stored in an S3-compatible bucket", () => {
  const server = new S3TestServer("auditlog-exports");
  const prefix = `test-${Date.now().toString(36)}`;
  const db = createTestDatabase();
  const { pool } = driversOf(db);
  let s3Env: Record<string, string>;
  let stack: Stack;
  let presigning: Stack;
  let worker: Awaited<ReturnType<typeof startWorker>> | undefined;
  const children: ChildProcess[] = [];

  function objectKeys(under: string): Promise<string[]> {
    return server.keys(`${prefix}/${under}`);
  }

  function request(on: Stack, path: string, token: string | null, method = "GET") {
    return on.app.request(path, {
      method,
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
  }

  async function requestExport(orgSlug: string, token: string, format: string) {
    const response = await stack.app.request(`/v1/orgs/${orgSlug}/exports`, {
      method: "POST",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ format }),
    });
    expect(response.status).toBe(202);
    return exportSchema.parse(await response.json());
  }

  async function downloadCount(orgId: string): Promise<number> {
    const { rows } = await pool.query<{ n: string }>(
      "SELECT count(*)::text AS n FROM audit_entries WHERE org_id = $1 AND type = 'org.audit_log.download'",
      [orgId],
    );
    return Number(rows[0]?.n);
  }

  beforeAll(async () => {
    await server.start();
    s3Env = {
      EXPORT_STORAGE: "s3",
      EXPORT_S3_BUCKET: server.bucket,
      EXPORT_S3_ENDPOINT: server.endpoint,
      EXPORT_S3_FORCE_PATH_STYLE: "true",
      EXPORT_S3_ACCESS_KEY_ID: s3TestCredentials.accessKeyId,
      EXPORT_S3_SECRET_ACCESS_KEY: s3TestCredentials.secretAccessKey,
      EXPORT_S3_PREFIX: prefix,
      EXPORT_S3_PART_SIZE_MIB: "5",
    };
    stack = await startTestApi({ ...s3Env, EXPORT_LINK_SECRET: linkSecret });
    // A second API on the same database and bucket, set to hand out presigned URLs.
    presigning = await startTestApi({
      ...s3Env,
      EXPORT_LINK_SECRET: linkSecret,
      EXPORT_S3_PRESIGN_SECONDS: "60",
      // Its download records go through the same ingest queue, which the tests' workers serve.
      INGEST_QUEUE: stack.queueName,
      EXPORT_QUEUE: stack.exportQueueName,
    });
  }, 120_000);

  afterEach(async () => {
    await worker?.stop();
    worker = undefined;
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await stack?.services.exportQueue.obliterate({ force: true }).catch(() => {});
    await stack?.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack?.services.close();
    await presigning?.services.close();
    await db.close();
    await server.close();
  }, 60_000);

  it("builds into the bucket, streams it through the API and through a signed link, redirects to a presigned URL when configured, and the sweep deletes the object", {
    timeout: 180_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "s3exp");
    const admin = await createMemberWithToken(org.slug, "admin");
    const rows: AuditEntryRow[] = [];
    for (let i = 0; i < 3_000; i++) {
      rows.push(entryRow(org.id, { description: `entry ${i}`, targetId: `t${i}` }));
    }
    await insertAuditEntries(db, rows);

    // Stopped after this test whatever happens (afterEach): left running, it would take the
    // next tests' builds.
    worker = await startTestWorker(stack, { ...s3Env, EXPORT_EXPIRY_INTERVAL_MS: "1000" });
    const created = await requestExport(org.slug, admin.token, "ndjson");
    const done = await waitFor(
      async () =>
        (
          await getJson<AuditExport>(
            stack.app,
            `/v1/orgs/${org.slug}/exports/${created.id}`,
            admin.token,
          )
        ).body,
      (e) => e.status !== "queued" && e.status !== "running",
      120_000,
    );
    expect(done).toMatchObject({ status: "ready", rowsWritten: 3_000 });
    const record = await getExportById(db, created.id);
    expect(await objectKeys(`${org.id}/`)).toEqual([`${prefix}/${record?.storageKey}`]);
    const sha256 = done.manifest?.fileSha256;
    expect(sha256).toMatch(/^[0-9a-f]{64}$/);
    const check = (bytes: Buffer) => {
      expect(createHash("sha256").update(bytes).digest("hex")).toBe(sha256);
      expect(gunzipSync(bytes).toString("utf8").split("\n").filter(Boolean)).toHaveLength(3_000);
    };

    // Streamed through the API.
    const downloadPath = `/v1/orgs/${org.slug}/exports/${created.id}/download`;
    const streamed = await request(stack, downloadPath, admin.token);
    expect(streamed.status).toBe(200);
    expect(streamed.headers.get("content-type")).toBe("application/gzip");
    expect(streamed.headers.get("content-length")).toBe(String(done.fileSize));
    expect(streamed.headers.get("content-disposition")).toBe(
      `attachment; filename="${org.slug}-audit-log-${created.id}.ndjson.gz"`,
    );
    check(Buffer.from(await streamed.arrayBuffer()));
    const linkResponse = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${created.id}/link`,
      admin.token,
      "POST",
    );
    const link = (await linkResponse.json()) as ExportLink;
    const linkUrl = new URL(link.url);
    const viaLink = await request(stack, linkUrl.pathname + linkUrl.search, null);
    expect(viaLink.status).toBe(200);
    check(Buffer.from(await viaLink.arrayBuffer()));
    // Recorded through the ingest queue: stored by the worker shortly after.
    expect(
      await waitFor(
        () => downloadCount(org.id),
        (n) => n >= 2,
      ),
    ).toBe(2);

    // Presigned: the API checks and records the download, then redirects to the store.
    for (const path of [downloadPath, linkUrl.pathname + linkUrl.search]) {
      const redirect = await request(presigning, path, path === downloadPath ? admin.token : null);
      expect(redirect.status).toBe(302);
      expect(redirect.headers.get("cache-control")).toBe("no-store");
      expect(redirect.headers.get("referrer-policy")).toBe("no-referrer");
      const location = new URL(redirect.headers.get("location") ?? "");
      expect(`${location.origin}${decodeURIComponent(location.pathname)}`).toBe(
        `${server.endpoint}/${server.bucket}/${prefix}/${record?.storageKey}`,
      );
      expect(location.searchParams.get("X-Amz-Expires")).toBe("60");
      expect(location.searchParams.get("X-Amz-Credential")).toMatch(/^S3RVER\//);
      const fromStore = await fetch(location);
      expect(fromStore.status).toBe(200);
      expect(fromStore.headers.get("content-disposition")).toBe(
        `attachment; filename="${org.slug}-audit-log-${created.id}.ndjson.gz"`,
      );
      expect(fromStore.headers.get("content-type")).toBe("application/gzip");
      check(Buffer.from(await fromStore.arrayBuffer()));
      // The signature covers the name it is saved under, and the key: neither can be changed.
      const renamed = new URL(location);
      renamed.searchParams.set("response-content-disposition", 'attachment; filename="x.gz"');
      expect((await fetch(renamed)).status).toBe(403);
      const otherKey = new URL(location);
      otherKey.pathname = otherKey.pathname.replace(/-(\d+)\.ndjson\.gz$/, "-9$1.ndjson.gz");
      expect(otherKey.pathname).not.toBe(location.pathname);
      expect((await fetch(otherKey)).status).toBe(403);
    }
    expect(
      await waitFor(
        () => downloadCount(org.id),
        (n) => n >= 4,
      ),
    ).toBe(4);
    const { rows: trail } = await pool.query<{ data: { via?: string } }>(
      "SELECT data FROM audit_entries WHERE org_id = $1 AND type = 'org.audit_log.download'",
      [org.id],
    );
    expect(trail.filter((r) => r.data.via === "signed link")).toHaveLength(2);

    // Retention: past its expiry the file is refused (410) and the sweep deletes the object.
    await pool.query("UPDATE exports SET expires_at = now() - interval '1 second' WHERE id = $1", [
      created.id,
    ]);
    expect((await request(stack, downloadPath, admin.token)).status).toBe(410);
    expect((await request(presigning, downloadPath, admin.token)).status).toBe(410);
    const expired = await waitFor(
      () => getExportById(db, created.id),
      (r) => r?.status === "expired",
      30_000,
    );
    expect(expired?.status).toBe("expired");
    expect(await objectKeys(`${org.id}/`)).toEqual([]);
  });

  it("answers 410, not a redirect, when the object is gone from the bucket", {
    timeout: 120_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "s3gone");
    const admin = await createMemberWithToken(org.slug, "admin");
    await insertAuditEntries(db, [entryRow(org.id)]);
    const local = await startTestWorker(stack, s3Env);
    try {
      const created = await requestExport(org.slug, admin.token, "json");
      const ready = await waitFor(
        () => getExportById(db, created.id),
        (r) => r?.status === "ready",
        60_000,
      );
      await stack.services.exportStorage.delete(ready?.storageKey ?? "");
      const path = `/v1/orgs/${org.slug}/exports/${created.id}/download`;
      expect((await request(presigning, path, admin.token)).status).toBe(410);
      expect((await request(stack, path, admin.token)).status).toBe(410);
      expect(await downloadCount(org.id)).toBe(0);
    } finally {
      await local.stop();
    }
  });

  it("leaves no object when the worker is killed with SIGKILL mid-upload, and the next worker rebuilds the export", {
    timeout: 600_000,
  }, async () => {
    const { org } = await createOrgWithKey("team", "s3kill");
    const admin = await createMemberWithToken(org.slug, "admin");
    const total = 30_000;
    for (let start = 0; start < total; start += 5_000) {
      const batch: AuditEntryRow[] = [];
      for (let i = start; i < start + 5_000; i++) {
        batch.push(
          entryRow(org.id, {
            occurredAt: new Date(Date.parse("2026-06-01T00:00:00Z") - i * 1000),
            description: `user created model acme/model-${i}`,
            targetId: `acme/model-${i}`,
          }),
        );
      }
      await insertAuditEntries(db, batch);
    }
    await pool.query("ANALYZE audit_entries");
    const crashEnv = {
      ...s3Env,
      WORKER_CONCURRENCY: "1",
      EXPORT_CONCURRENCY: "1",
      // A short lock so the restarted worker reclaims the dead one's build within seconds.
      WORKER_LOCK_DURATION_MS: "2000",
    };
    // The first worker's part uploads are held at the store, so it is killed at a known point:
    // with a part of its upload in flight, not before the upload starts nor after it completes.
    const partUploads = server.hold(
      ({ method, path }) => method === "PUT" && /[?&]partNumber=/.test(path),
    );
    const created = await requestExport(org.slug, admin.token, "json");
    const first = spawnTestWorker(stack, crashEnv);
    children.push(first);
    await waitFor(
      async () => partUploads.count,
      (count) => count > 0,
      240_000,
    );
    const running = await getExportById(db, created.id);
    expect(running).toMatchObject({ status: "running" });
    first.kill("SIGKILL");
    expect(await exitOf(first)).toBe("SIGKILL");
    partUploads.release();
    const killedAttempt = running?.attempt ?? 0;
    expect(await getExportById(db, created.id)).toMatchObject({
      status: "running",
      attempt: killedAttempt,
    });
    // The killed attempt's upload was never completed: nothing of it is visible.
    expect(await objectKeys(`${org.id}/`)).toEqual([]);
    expect(
      await stack.services.exportStorage.stat(`${org.id}/${created.id}-${killedAttempt}.json.gz`),
    ).toBeNull();

    const second = spawnTestWorker(stack, crashEnv);
    children.push(second);
    const done = await waitFor(
      () => getExportById(db, created.id),
      (r) => r?.status !== "running" && r?.status !== "queued",
      240_000,
    );
    expect(done).toMatchObject({ status: "ready", rowsWritten: total });
    expect(done?.attempt).toBeGreaterThan(killedAttempt);
    second.kill("SIGTERM");
    expect(await exitOf(second)).toBe(0);
    // Only the finished attempt's object is there.
    expect(await objectKeys(`${org.id}/`)).toEqual([`${prefix}/${done?.storageKey}`]);

    const response = await request(
      stack,
      `/v1/orgs/${org.slug}/exports/${created.id}/download`,
      admin.token,
    );
    expect(response.status).toBe(200);
    const entries = JSON.parse(
      gunzipSync(Buffer.from(await response.arrayBuffer())).toString("utf8"),
    ) as { id: string }[];
    expect(entries).toHaveLength(total);
    expect(new Set(entries.map((e) => e.id)).size).toBe(total);
    // 30,000 rows would otherwise pile up in the shared test database run after run.
    await purgeOrganisationLog(db, org.id);
    await pool.query("DELETE FROM organizations WHERE id = $1", [org.id]);
  });
});
