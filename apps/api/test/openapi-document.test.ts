import { Validator } from "@seriousme/openapi-schema-validator";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;
type Document = { openapi: string; paths: Record<string, Record<string, unknown>> };

/**
 * Routes the app registers that are not API operations, each with why it is left out of the
 * document. Anything else the app answers must be in it.
 */
const notOperations: Record<string, string> = {
  "GET /*": "the web console's files and its SPA fallback (HTML, not API)",
  "GET /openapi.json": "the document itself",
  "GET /docs": "the rendered reference of the document",
  "GET /docs/init.js": "the rendered reference's settings script",
  "GET /docs/scalar.js": "the rendered reference's bundle (Scalar, from node_modules)",
  "GET /embed/viewer/:link":
    "the embeddable viewer's page (HTML framed by a host product; its data comes from /v1/viewer)",
  "GET /embed/viewer.js": "the embeddable viewer's script",
  "GET /embed/viewer.css": "the embeddable viewer's styles",
};

/** `:name` segments as OpenAPI writes them (`{name}`). */
const openApiPath = (path: string) => path.replace(/:([A-Za-z0-9_]+)/g, "{$1}");

describe("the OpenAPI document", () => {
  let stack: Stack;
  let document: Document;

  beforeAll(async () => {
    stack = await startTestApi();
    const response = await stack.app.request("/openapi.json");
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    document = (await response.json()) as Document;
  });
  afterAll(async () => {
    await stack.services.close();
  });

  it("is valid OpenAPI 3.1 for an independent validator", async () => {
    expect(document.openapi).toMatch(/^3\.1\./);
    const validator = new Validator();
    const result = await validator.validate(
      document as unknown as Parameters<Validator["validate"]>[0],
    );
    expect(result.errors ?? []).toEqual([]);
    expect(result.valid).toBe(true);
    expect(validator.version).toBe("3.1");
  });

  it("documents every route the app registers, and nothing it does not", () => {
    const registered = new Set<string>();
    for (const route of stack.app.routes) {
      // Middleware (`use`) registers as ALL; operations have a method.
      if (route.method === "ALL") continue;
      registered.add(`${route.method} ${route.path}`);
    }
    const documented = new Set(
      Object.entries(document.paths).flatMap(([path, operations]) =>
        Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
      ),
    );
    const missing = [...registered]
      .filter((route) => !(route in notOperations))
      .filter((route) => {
        const [method, path] = route.split(" ") as [string, string];
        return !documented.has(`${method} ${openApiPath(path)}`);
      });
    expect(missing).toEqual([]);
    // The allow-list holds only routes that exist (a stale entry would hide nothing, but lie).
    expect(Object.keys(notOperations).filter((route) => !registered.has(route))).toEqual([]);
    const registeredAsOpenApi = new Set(
      [...registered].map((route) => {
        const [method, path] = route.split(" ") as [string, string];
        return `${method} ${openApiPath(path)}`;
      }),
    );
    expect([...documented].filter((operation) => !registeredAsOpenApi.has(operation))).toEqual([]);
    console.log(
      `openapi: ${documented.size} operations documented, ${registered.size} routes registered, ${Object.keys(notOperations).length} allow-listed`,
    );
  });

  it("declares the authentication schemes and describes the query language", () => {
    const doc = document as unknown as {
      info: { description: string };
      components: { securitySchemes: Record<string, { type: string; in?: string; name?: string }> };
    };
    const schemes = doc.components.securitySchemes;
    expect(schemes.session).toMatchObject({ type: "apiKey", in: "cookie" });
    expect(schemes.csrfToken).toMatchObject({ type: "apiKey", in: "header", name: "X-CSRF-Token" });
    expect(schemes.personalAccessToken).toMatchObject({ type: "http" });
    expect(schemes.apiKey).toMatchObject({ type: "http" });
    for (const key of ["author:", "type:", "category:", "target:", "ip:", "country:", "created:"]) {
      expect(doc.info.description).toContain(`\`${key}\``);
    }
  });
  it("renders /docs from this origin only, under a policy that allows no other", async () => {
    const page = await stack.app.request("/docs");
    expect(page.status).toBe(200);
    const csp = page.headers.get("content-security-policy") ?? "";
    expect(csp).toContain("script-src 'self';");
    expect(csp).toContain("connect-src 'self';");
    expect(csp).not.toMatch(/https?:/);
    const html = await page.text();
    const sources = [...html.matchAll(/<script src="([^"]+)"/g)].map((m) => m[1]);
    expect(sources).toEqual(["/docs/scalar.js", "/docs/init.js"]);
    for (const source of sources) {
      const script = await stack.app.request(source as string);
      expect(script.status).toBe(200);
      expect(script.headers.get("content-type")).toMatch(/^text\/javascript/);
      expect((await script.text()).length).toBeGreaterThan(0);
    }
    // The document itself is API data: the API's nothing-allowed policy.
    const json = await stack.app.request("/openapi.json");
    expect(json.headers.get("content-security-policy")).toContain("default-src 'none'");
  });
});
