import { execFile } from "node:child_process";
import { createHmac } from "node:crypto";
import { rm } from "node:fs/promises";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { gzipSync } from "node:zlib";
import { createExport, type ExportRecord, markExportReady, startExportAttempt } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import type { ExportLink } from "@auditlog/events";
import { signExportManifest } from "@auditlog/exports";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApiEnv } from "../src/env.ts";
import { exportDownloadPath } from "../src/exports/export-links.ts";
import { createMemberWithToken, createOrgWithKey, startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;
const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

/** The key every deployment without EXPORT_LINK_SECRET used to sign with: it is in the public source. */
const publishedDevelopmentKey = "auditlog-local-development-export-link-secret";

/** A ready export with a small file, made the way the worker makes one. */
async function readyExport(
  stack: Stack,
  orgId: string,
  requester: { id: string; name: string },
): Promise<ExportRecord> {
  const { db } = stack.services;
  const record = await createExport(db, {
    orgId,
    requestedBy: requester,
    format: "ndjson",
    query: "",
    includeHidden: false,
  });
  const started = await startExportAttempt(db, record.id);
  const storageKey = `${orgId}/${record.id}.ndjson.gz`;
  const upload = await stack.services.exportStorage.createWriteStream(storageKey);
  await new Promise<void>((resolve, reject) => {
    upload.stream.on("error", reject);
    upload.stream.end(gzipSync('{"id":"evt_1"}\n'), () => resolve());
  });
  const { size } = await upload.commit();
  // These tests are about links, not manifests: a signed stand-in (the file is not a real one).
  const manifest = signExportManifest(
    {
      version: 1,
      exportId: record.id,
      orgId,
      logOrigin: "auditlog.localhost",
      format: "ndjson",
      rows: 1,
      fileSha256: "0".repeat(64),
      fileSize: size,
      query: "",
      includeHidden: false,
      unfiltered: false,
      firstSeq: null,
      lastSeq: null,
      checkpoint: { treeSize: 0, rootHash: "", note: "" },
      createdAt: new Date().toISOString(),
    },
    testCheckpointSigner,
  );
  const ready = await markExportReady(db, {
    id: record.id,
    attempt: started?.attempt ?? 1,
    rowsWritten: 1,
    fileSize: size,
    storageKey,
    expiresAt: new Date(Date.now() + 24 * 3600 * 1000),
    manifest,
  });
  if (!ready) throw new Error("the export did not become ready");
  return ready;
}

async function errorMessage(response: Response): Promise<string> {
  return ((await response.json()) as { error: { message: string } }).error.message;
}

describe("signed export download links", () => {
  const stacks: Stack[] = [];
  let org: { id: string; slug: string };
  let admin: Awaited<ReturnType<typeof createMemberWithToken>>;

  async function stack(overrides: Record<string, string> = {}) {
    const started = await startTestApi(overrides);
    stacks.push(started);
    return started;
  }

  async function requestLink(on: Stack, exportId: string, headers: Record<string, string> = {}) {
    const response = await on.app.request(`/v1/orgs/${org.slug}/exports/${exportId}/link`, {
      method: "POST",
      headers: { authorization: `Bearer ${admin.token}`, ...headers },
    });
    expect(response.status).toBe(200);
    return (await response.json()) as ExportLink;
  }

  beforeAll(async () => {
    ({ org } = await createOrgWithKey("team", "links"));
    admin = await createMemberWithToken(org.slug, "admin");
  });

  afterAll(async () => {
    for (const started of stacks) {
      await started.services.close();
      await rm(started.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
    }
  });

  it("refuses a link forged with the published development key on a default deployment", async () => {
    const api = await stack({ EXPORT_LINK_SECRET: "" });
    const record = await readyExport(api, org.id, admin.user);
    // What a read-only member did: the org id from /v1/me, the key from the source, year 33658.
    const expires = 999_999_999_999;
    const signature = createHmac("sha256", publishedDevelopmentKey)
      .update(`export-download\n${record.id}\n${org.id}\n${expires}`)
      .digest("base64url");
    const forged = await api.app.request(
      `/v1/export-downloads/${record.id}?expires=${expires}&signature=${signature}`,
    );
    expect(forged.status).toBe(403);
    expect(await errorMessage(forged)).toMatch(/invalid download link/);
  });

  it("signs with a random secret kept in the database: API processes agree, links survive restarts", async () => {
    const first = await stack({ EXPORT_LINK_SECRET: "" });
    const record = await readyExport(first, org.id, admin.user);
    const link = await requestLink(first, record.id);
    await first.services.close();
    stacks.splice(stacks.indexOf(first), 1);
    // Another process (or the same one restarted) on the same database.
    const second = await stack({
      EXPORT_LINK_SECRET: "",
      EXPORT_STORAGE_DIR: first.env.EXPORT_STORAGE_DIR,
    });
    const url = new URL(link.url);
    const response = await second.app.request(url.pathname + url.search);
    expect(response.status).toBe(200);

    const { rows } = await driversOf(second.services.db).pool.query<{ n: number }>(
      "SELECT octet_length(secret) AS n FROM deployment_secrets",
    );
    expect(rows.length).toBeGreaterThanOrEqual(1);
    expect(rows.every((row) => row.n >= 32)).toBe(true);
  });

  it("refuses a genuinely signed link whose expiry lies beyond now + EXPORT_LINK_TTL_SECONDS", async () => {
    const secret = "export-links-test-secret-0123456789";
    const api = await stack({ EXPORT_LINK_SECRET: secret, EXPORT_LINK_TTL_SECONDS: "900" });
    const record = await readyExport(api, org.id, admin.user);
    const now = Math.floor(Date.now() / 1000);
    const claims = { exportId: record.id, orgId: org.id, issuedBy: admin.user.id };
    const withinTtl = exportDownloadPath({ ...claims, expires: now + 600 }, secret);
    expect((await api.app.request(withinTtl)).status).toBe(200);
    const farFuture = exportDownloadPath({ ...claims, expires: now + 900 + 3600 }, secret);
    const refused = await api.app.request(farFuture);
    expect(refused.status).toBe(403);
    expect(await errorMessage(refused)).toMatch(/expir/);
  });

  it("a link stops working once the admin who made it is no longer one", async () => {
    const api = await stack({ EXPORT_LINK_SECRET: "" });
    const record = await readyExport(api, org.id, admin.user);
    const leaving = await createMemberWithToken(org.slug, "admin");
    const response = await api.app.request(`/v1/orgs/${org.slug}/exports/${record.id}/link`, {
      method: "POST",
      headers: { authorization: `Bearer ${leaving.token}` },
    });
    const url = new URL(((await response.json()) as ExportLink).url);
    expect(url.searchParams.get("by")).toBe(leaving.user.id);
    expect((await api.app.request(url.pathname + url.search)).status).toBe(200);

    const removed = await api.app.request(`/v1/orgs/${org.slug}/members/${leaving.user.id}`, {
      method: "DELETE",
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(removed.status).toBe(200);
    const refused = await api.app.request(url.pathname + url.search);
    expect(refused.status).toBe(403);
    expect(await errorMessage(refused)).toMatch(/may no longer read/);
  });

  it("builds links from PUBLIC_URL, never from the request's Host header", async () => {
    const api = await stack({ PUBLIC_URL: "https://audit.example.com" });
    const record = await readyExport(api, org.id, admin.user);
    const link = await requestLink(api, record.id, { host: "evil.example" });
    expect(link.url).toMatch(
      new RegExp(`^https://audit\\.example\\.com/v1/export-downloads/${record.id}\\?`),
    );
    // Through a URL with another authority too (what a proxy passing Host on would produce).
    const viaOtherAuthority = await api.app.request(
      `http://evil.example/v1/orgs/${org.slug}/exports/${record.id}/link`,
      { method: "POST", headers: { authorization: `Bearer ${admin.token}` } },
    );
    expect(((await viaOtherAuthority.json()) as ExportLink).url).toMatch(
      /^https:\/\/audit\.example\.com\//,
    );
  });

  it("derives PUBLIC_URL from HOST and PORT on a loopback address", () => {
    expect(loadApiEnv({ HOST: "127.0.0.1", PORT: "3000" }).PUBLIC_URL).toBe(
      "http://127.0.0.1:3000",
    );
    expect(loadApiEnv({ HOST: "::1", PORT: "8080" }).PUBLIC_URL).toBe("http://[::1]:8080");
    expect(loadApiEnv({ PUBLIC_URL: "https://audit.example.com/" }).PUBLIC_URL).toBe(
      "https://audit.example.com",
    );
    expect(() => loadApiEnv({ PUBLIC_URL: "https://audit.example.com/logs?x=1" })).toThrow(
      /PUBLIC_URL: /,
    );
  });

  it("refuses to start on a non-loopback address without EXPORT_LINK_SECRET (and PUBLIC_URL)", async () => {
    for (const host of ["0.0.0.0", "::", "10.1.2.3", "audit.internal"]) {
      expect(() => loadApiEnv({ HOST: host }), host).toThrow(/EXPORT_LINK_SECRET: .*loopback/);
      expect(() => loadApiEnv({ HOST: host }), host).toThrow(/PUBLIC_URL: /);
    }
    const configured = loadApiEnv({
      HOST: "0.0.0.0",
      EXPORT_LINK_SECRET: "a-long-random-deployment-secret",
      PUBLIC_URL: "https://audit.example.com",
    });
    expect(configured.PUBLIC_URL).toBe("https://audit.example.com");
    for (const host of ["127.0.0.1", "127.8.9.10", "::1", "localhost"]) {
      expect(loadApiEnv({ HOST: host }).EXPORT_LINK_SECRET, host).toBe("");
    }

    // The real server: it exits at boot with the reason, before listening anywhere.
    const boot = await run(process.execPath, ["--import", "tsx", "src/server.ts"], {
      cwd: apiDir,
      env: { ...process.env, HOST: "0.0.0.0", PORT: "0", EXPORT_LINK_SECRET: "" },
      timeout: 60_000,
    }).then(
      () => ({ code: 0, stderr: "" }),
      (error: { code?: number; stderr?: string }) => ({
        code: error.code ?? -1,
        stderr: error.stderr ?? "",
      }),
    );
    expect(boot.code).not.toBe(0);
    expect(boot.stderr).toMatch(/EXPORT_LINK_SECRET: /);
  }, 90_000);
});
