import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

/** The directives of a Content-Security-Policy header, by name. */
function directives(header: string | null): Record<string, string> {
  const result: Record<string, string> = {};
  for (const part of (header ?? "").split(";")) {
    const [name, ...values] = part.trim().split(/\s+/);
    if (name) result[name] = values.join(" ");
  }
  return result;
}

describe("security headers on every answer", () => {
  let dir: string;
  let stack: Stack;
  let https: Stack;

  beforeAll(async () => {
    dir = mkdtempSync(join(tmpdir(), "auditlog-web-headers-"));
    mkdirSync(join(dir, "assets"));
    writeFileSync(join(dir, "index.html"), "<!doctype html><title>console</title>");
    writeFileSync(join(dir, "assets", "app-abc123.js"), "console.log('app')");
    writeFileSync(join(dir, "assets", "app-abc123.js.map"), '{"version":3,"sources":[]}');
    stack = await startTestApi({ WEB_DIST_DIR: dir });
    https = await startTestApi({ WEB_DIST_DIR: dir, PUBLIC_URL: "https://audit.example.test" });
  });
  afterAll(async () => {
    await Promise.all([stack?.services.close(), https?.services.close()]);
    rmSync(dir, { recursive: true, force: true });
  });

  const common = (response: Response) => {
    expect(response.headers.get("x-content-type-options")).toBe("nosniff");
    expect(response.headers.get("referrer-policy")).toBe("no-referrer");
    expect(response.headers.get("x-frame-options")).toBe("DENY");
  };

  it("gives the console a strict Content-Security-Policy", async () => {
    for (const path of ["/", "/orgs/acme/audit-logs", "/assets/app-abc123.js"]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(200);
      common(response);
      const csp = directives(response.headers.get("content-security-policy"));
      expect(csp, path).toEqual({
        "default-src": "'self'",
        "script-src": "'self'",
        "style-src": "'self'",
        "img-src": "'self' https:",
        "connect-src": "'self'",
        "font-src": "'self'",
        "object-src": "'none'",
        "base-uri": "'none'",
        "form-action": "'self'",
        "frame-ancestors": "'none'",
      });
    }
  });

  it("gives API answers, errors included, a policy that allows nothing", async () => {
    const answers = [
      await stack.app.request("/healthz"),
      await stack.app.request("/v1/me"),
      await stack.app.request("/v1/nope"),
      await stack.app.request("/v1/events", { method: "POST", body: "{" }),
    ];
    expect(answers.map((r) => r.status)).toEqual([200, 401, 404, 401]);
    for (const response of answers) {
      common(response);
      expect(directives(response.headers.get("content-security-policy"))).toEqual({
        "default-src": "'none'",
        "frame-ancestors": "'none'",
      });
    }
  });

  it("sends HSTS only when PUBLIC_URL says the API is served over https", async () => {
    expect((await stack.app.request("/healthz")).headers.get("strict-transport-security")).toBe(
      null,
    );
    for (const path of ["/healthz", "/"]) {
      expect((await https.app.request(path)).headers.get("strict-transport-security"), path).toBe(
        "max-age=31536000",
      );
    }
  });

  it("does not serve source maps", async () => {
    for (const path of ["/assets/app-abc123.js.map", "/assets/missing.js.map", "/index.js.map"]) {
      const response = await stack.app.request(path);
      expect(response.status, path).toBe(404);
      expect(await response.text(), path).not.toContain('"version":3');
    }
  });
});
