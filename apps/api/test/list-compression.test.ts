import { gunzipSync } from "node:zlib";
import type { AuditEntryPage } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestApi,
} from "./support/test-stack.ts";

/**
 * The log's pages are the console's largest answers and on its first screen's critical path:
 * gzipped for clients that accept it. /v1/me (which carries the CSRF token) is not compressed.
 */
describe("compressed log pages", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let token: string;

  beforeAll(async () => {
    stack = await startTestApi();
    org = (await createOrgWithKey("team", "gzip")).org;
    token = (await createMemberWithToken(org.slug, "admin")).token;
    const base = Date.parse("2026-03-01T12:00:00Z");
    await insertRows(
      Array.from({ length: 100 }, (_, n) =>
        entryRow(org.id, { id: `gz${n}`, occurredAt: new Date(base + n * 60_000) }),
      ),
    );
  });
  afterAll(async () => {
    await stack.services.close();
  });

  const get = (path: string, acceptEncoding?: string) =>
    stack.app.request(path, {
      headers: {
        authorization: `Bearer ${token}`,
        ...(acceptEncoding ? { "accept-encoding": acceptEncoding } : {}),
      },
    });

  it("gzips a page for a client that accepts gzip, and names it in Vary", async () => {
    const path = `/v1/orgs/${org.slug}/audit-logs?limit=100`;
    const gzipped = await get(path, "gzip, deflate, br");
    expect(gzipped.status).toBe(200);
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    expect(gzipped.headers.get("vary")).toMatch(/accept-encoding/i);
    expect(gzipped.headers.get("content-type")).toMatch(/^application\/json/);
    const bytes = Buffer.from(await gzipped.arrayBuffer());
    const page = JSON.parse(gunzipSync(bytes).toString()) as AuditEntryPage;
    expect(page.entries).toHaveLength(100);
    const plain = await get(path);
    expect(plain.headers.get("content-encoding")).toBeNull();
    const plainText = await plain.text();
    expect((JSON.parse(plainText) as AuditEntryPage).entries).toHaveLength(100);
    console.log(`a page of 100 entries: ${plainText.length} bytes, ${bytes.length} gzipped`);
    expect(bytes.length).toBeLessThan(plainText.length / 4);
  });

  it("leaves /v1/me (with the CSRF token) uncompressed", async () => {
    const me = await get("/v1/me", "gzip");
    expect(me.status).toBe(200);
    expect(me.headers.get("content-encoding")).toBeNull();
  });
});
