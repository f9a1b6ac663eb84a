import { brotliDecompressSync, gunzipSync } from "node:zlib";
import type { AuditEntryPage } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  sampleEvent,
  startTestApi,
} from "./support/test-stack.ts";

/**
 * The log's pages are the console's largest answers and on its first screen's critical path:
 * compressed (brotli or gzip) for clients that accept it, as are the API's other JSON answers of
 * 1 KB and more. /v1/me (which carries the CSRF token) is not compressed.
 */
describe("compressed log pages", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let token: string;
  let apiKey: string;

  beforeAll(async () => {
    stack = await startTestApi();
    ({ org, apiKey } = await createOrgWithKey("team", "gzip"));
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
    const gzipped = await get(path, "gzip, deflate");
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

  it("prefers brotli when the client accepts both, and honours q=0", async () => {
    const path = `/v1/orgs/${org.slug}/audit-logs?limit=100`;
    const br = await get(path, "gzip, deflate, br");
    expect(br.headers.get("content-encoding")).toBe("br");
    const page = JSON.parse(
      brotliDecompressSync(Buffer.from(await br.arrayBuffer())).toString(),
    ) as AuditEntryPage;
    expect(page.entries).toHaveLength(100);
    const gzipOnly = await get(path, "br;q=0, gzip");
    expect(gzipOnly.headers.get("content-encoding")).toBe("gzip");
    expect(JSON.parse(gunzipSync(Buffer.from(await gzipOnly.arrayBuffer())).toString())).toEqual(
      page,
    );
    const neither = await get(path, "identity");
    expect(neither.headers.get("content-encoding")).toBeNull();
  });

  it("compresses other JSON answers of 1 KB and more, and leaves small ones as they are", async () => {
    const small = await get(`/v1/orgs/${org.slug}/audit-logs?limit=1`, "gzip, br");
    const smallText = await small.text();
    expect(smallText.length).toBeLessThan(1024);
    expect(small.headers.get("content-encoding")).toBeNull();
    expect(small.headers.get("content-length")).toBe(String(Buffer.byteLength(smallText)));
    const entry = await get(`/v1/orgs/${org.slug}/audit-logs?limit=20`, "gzip");
    expect(entry.headers.get("content-encoding")).toBe("gzip");
  });

  it("never compresses a live stream (SSE) nor ingestion's answers", async () => {
    const live = await get("/v1/notifications/stream", "gzip, br");
    expect(live.status).toBe(200);
    expect(live.headers.get("content-type")).toMatch(/^text\/event-stream/);
    expect(live.headers.get("content-encoding")).toBeNull();
    await live.body?.cancel();

    const ingested = await stack.app.request("/v1/events", {
      method: "POST",
      headers: {
        authorization: `Bearer ${apiKey}`,
        "content-type": "application/json",
        "accept-encoding": "gzip, br",
      },
      body: JSON.stringify({ events: Array.from({ length: 100 }, (_, n) => sampleEvent(n)) }),
    });
    expect(ingested.status).toBe(202);
    const text = await ingested.text();
    expect(text.length).toBeGreaterThan(1024);
    expect(ingested.headers.get("content-encoding")).toBeNull();
  });
});
