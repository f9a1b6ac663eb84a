import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { brotliCompressSync, brotliDecompressSync, gunzipSync, gzipSync } from "node:zlib";
import { firstLogPagePath } from "@auditlog/events/console-first-page";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { sessionCookieName } from "../src/auth/sessions.ts";
import { acceptedEncodings } from "../src/web/console-static.ts";
import { startTestApi } from "./support/test-stack.ts";

const appScript = `console.log(${JSON.stringify("app ".repeat(200))})`;

describe("the API serves the built web console", () => {
  let dir: string;
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let unbuilt: Awaited<ReturnType<typeof startTestApi>>;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "auditlog-web-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log('app')");
    writeFileSync(join(dir, "favicon.svg"), "<svg/>");
    // As the build writes them (apps/web/vite-plugins.ts): each variant beside its file.
    writeFileSync(join(dir, "assets", "big-def456.js"), appScript);
    writeFileSync(join(dir, "assets", "big-def456.js.br"), brotliCompressSync(appScript));
    writeFileSync(join(dir, "assets", "big-def456.js.gz"), gzipSync(appScript));
    writeFileSync(join(dir, "index.html.gz"), gzipSync("<!doctype html><title>console</title>"));
    // A left-over map must not be published.
    writeFileSync(join(dir, "assets", "big-def456.js.map"), "{}");
    stack = await startTestApi({ WEB_DIST_DIR: dir });
    unbuilt = await startTestApi({ WEB_DIST_DIR: join(dir, "missing") });
  });
  afterAll(async () => {
    await Promise.all([stack.services.close(), unbuilt.services.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  it("serves files, with long caching for hashed assets", async () => {
    const asset = await stack.app.request("/assets/app-abc123.js");
    expect(asset.status).toBe(200);
    expect(asset.headers.get("content-type")).toMatch(/javascript/);
    expect(asset.headers.get("cache-control")).toContain("immutable");
    expect(await asset.text()).toBe("console.log('app')");
    const icon = await stack.app.request("/favicon.svg");
    expect(icon.headers.get("content-type")).toMatch(/svg/);
    expect(icon.headers.get("cache-control")).toBe("no-cache");
  });

  it("sends the compressed variant the request prefers, with Vary and the right type", async () => {
    const get = (acceptEncoding?: string) =>
      stack.app.request(
        "/assets/big-def456.js",
        acceptEncoding === undefined ? {} : { headers: { "accept-encoding": acceptEncoding } },
      );
    const bytes = async (response: Response) => Buffer.from(await response.arrayBuffer());

    const br = await get("gzip, deflate, br, zstd");
    expect(br.status).toBe(200);
    expect(br.headers.get("content-encoding")).toBe("br");
    expect(br.headers.get("vary")).toBe("Accept-Encoding");
    expect(br.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(br.headers.get("cache-control")).toBe("public, max-age=31536000, immutable");
    const brBody = await bytes(br);
    expect(brBody.length).toBeLessThan(appScript.length / 10);
    expect(brotliDecompressSync(brBody).toString()).toBe(appScript);

    const gzip = await get("gzip");
    expect(gzip.headers.get("content-encoding")).toBe("gzip");
    expect(gzip.headers.get("vary")).toBe("Accept-Encoding");
    expect(gzip.headers.get("content-type")).toBe("text/javascript; charset=utf-8");
    expect(gunzipSync(await bytes(gzip)).toString()).toBe(appScript);
    // q-values decide, not the order the client lists them in.
    expect((await get("br;q=0.5, gzip")).headers.get("content-encoding")).toBe("gzip");
    expect((await get("br;q=0, *")).headers.get("content-encoding")).toBe("gzip");

    for (const identity of [undefined, "identity", "deflate", "br;q=0, gzip;q=0"]) {
      const plain = await get(identity);
      expect(plain.headers.get("content-encoding"), identity).toBeNull();
      expect(plain.headers.get("vary"), identity).toBe("Accept-Encoding");
      expect(plain.headers.get("cache-control"), identity).toContain("immutable");
      expect(await plain.text(), identity).toBe(appScript);
    }
  });

  it("revalidates index.html on every use, answering 304 to its ETag", async () => {
    for (const path of ["/", "/index.html", "/orgs/acme/audit-logs"]) {
      const page = await stack.app.request(path, { headers: { "accept-encoding": "gzip, br" } });
      expect(page.headers.get("cache-control"), path).toBe("no-cache");
      expect(page.headers.get("content-type"), path).toBe("text/html; charset=utf-8");
      // Only gzip was built for this index.html: brotli is accepted but not there.
      expect(page.headers.get("content-encoding"), path).toBe("gzip");
      expect(page.headers.get("vary"), path).toBe("Accept-Encoding");
      const etag = page.headers.get("etag");
      expect(etag, path).toMatch(/^".+"$/);
      const again = await stack.app.request(path, {
        headers: { "accept-encoding": "gzip, br", "if-none-match": etag ?? "" },
      });
      expect(again.status, path).toBe(304);
    }
    // The identity and the gzip answers are different bytes: different ETags.
    const identity = await stack.app.request("/");
    expect(identity.headers.get("content-encoding")).toBeNull();
    const gzip = await stack.app.request("/", { headers: { "accept-encoding": "gzip" } });
    expect(identity.headers.get("etag")).not.toBe(gzip.headers.get("etag"));
  });

  it("never serves source maps or the variants themselves", async () => {
    for (const path of [
      "/assets/big-def456.js.map",
      "/assets/big-def456.js.br",
      "/assets/big-def456.js.gz",
      "/index.html.gz",
      "/orgs/acme/audit-logs.map",
    ]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code, path).toBe(
        "not_found",
      );
    }
  });

  it("reads Accept-Encoding as RFC 9110 says", () => {
    const names = (header?: string) => acceptedEncodings(header).map((encoding) => encoding.name);
    expect(names(undefined)).toEqual([]);
    expect(names("")).toEqual([]);
    expect(names("gzip, deflate, br")).toEqual(["br", "gzip"]);
    expect(names("GZIP;Q=1.0, br;q=0.9")).toEqual(["gzip", "br"]);
    expect(names("*")).toEqual(["br", "gzip"]);
    expect(names("*;q=0.1, gzip")).toEqual(["gzip", "br"]);
    expect(names("br;q=0")).toEqual([]);
    expect(names("x-gzip")).toEqual(["gzip"]);
    expect(names("identity")).toEqual([]);
  });

  it("answers index.html for the console's own routes", async () => {
    for (const path of ["/", "/orgs/acme/audit-logs?q=type:repo.create", "/anything/else"]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toMatch(/text\/html/);
      expect(await response.text(), path).toContain("<title>console</title>");
    }
  });

  it("names the log's first page in a preload header on a signed-in browser's log address, and only there", async () => {
    const signedIn = { headers: { cookie: `${sessionCookieName(stack.env)}=anything` } };
    const linkOf = async (path: string, init: RequestInit = signedIn) => {
      const response = await stack.app.request(path, init);
      expect(response.status, path).toBe(200);
      expect(await response.text(), path).toContain("<title>console</title>");
      return response.headers.get("link");
    };
    const preload = (slug: string) =>
      `</v1/orgs/${slug}/audit-logs?limit=100>; rel=preload; as=fetch; crossorigin=anonymous`;
    // The URL the console's entry script asks for (early-requests.ts): the same function builds both.
    expect(preload("acme")).toContain(firstLogPagePath("acme"));
    expect(await linkOf("/orgs/acme/audit-logs")).toBe(preload("acme"));
    expect(await linkOf("/orgs/acme")).toBe(preload("acme"));
    expect(await linkOf("/orgs/acme/audit-logs?sort=asc")).toBe(preload("acme"));
    // Another filter asks for another page; signed out, the page would fetch a 401.
    expect(await linkOf("/orgs/acme/audit-logs?q=type:repo.create")).toBeNull();
    expect(await linkOf("/orgs/acme/audit-logs?range=7d")).toBeNull();
    expect(await linkOf("/orgs/acme/settings")).toBeNull();
    expect(await linkOf("/")).toBeNull();
    expect(await linkOf("/orgs/acme/audit-logs", {})).toBeNull();
    // A name the header could not carry as it is arrives percent-encoded.
    expect(await linkOf("/orgs/a%3Eb%2Cc/audit-logs")).toBe(preload("a%3Eb%2Cc"));
  });

  it("keeps API paths and missing assets as JSON 404s", async () => {
    for (const path of [
      "/v1/nope",
      "/api/nope",
      "/v1",
      "/assets/missing.js",
      // Never a path outside the build (nor a file named by encoded characters).
      "/assets/..%2f..%2fpackage.json",
    ]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(404);
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe("not_found");
    }
    const post = await stack.app.request("/orgs/acme", { method: "POST" });
    expect(post.status).toBe(404);
    expect((await stack.app.request("/healthz")).status).toBe(200);
  });

  it("explains how to build the console when it is not built", async () => {
    const response = await unbuilt.app.request("/orgs/acme/audit-logs");
    expect(response.status).toBe(404);
    expect(((await response.json()) as { error: { message: string } }).error.message).toMatch(
      /not built/,
    );
  });
});
