import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi } from "./support/test-stack.ts";

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

  it("answers index.html for the console's own routes", async () => {
    for (const path of ["/", "/orgs/acme/audit-logs?q=type:repo.create", "/anything/else"]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(200);
      expect(response.headers.get("content-type"), path).toMatch(/text\/html/);
      expect(await response.text(), path).toContain("<title>console</title>");
    }
  });

  it("keeps API paths and missing assets as JSON 404s", async () => {
    for (const path of ["/v1/nope", "/api/nope", "/v1", "/assets/missing.js"]) {
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
