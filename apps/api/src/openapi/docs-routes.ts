import { createReadStream } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { dirname, join } from "node:path";
import { Readable } from "node:stream";
import { fileURLToPath } from "node:url";
import type { Hono } from "hono";
import { Hono as HonoApp } from "hono";
import type { AppEnv } from "../app-env.ts";
import { generateOpenApiDocument } from "./openapi-document.ts";

/**
 * Scalar's standalone bundle, as installed (`@scalar/api-reference`, dist/browser): one file with
 * everything the reference needs, served from here, so /docs downloads nothing from anywhere
 * else (Scalar's own loader would fetch it from a CDN).
 */
const scalarPackageDir = join(
  dirname(fileURLToPath(import.meta.resolve("@scalar/api-reference"))),
  "..",
);
const scalarBundle = join(scalarPackageDir, "dist", "browser", "standalone.js");

/**
 * The reference's settings, from a file of ours rather than an inline script (the page's CSP
 * allows scripts from this origin only): the document from /openapi.json, and nothing that
 * reaches outside (no web fonts, no proxy, no hosted client or agent).
 */
const initScript = `Scalar.createApiReference("#api-reference", {
  url: "/openapi.json",
  withDefaultFonts: false,
  hideClientButton: true,
  showDeveloperTools: "never",
  agent: { disabled: true },
  mcp: { disabled: true },
  telemetry: false,
});
`;

const page = `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <title>auditlog API reference</title>
  </head>
  <body>
    <div id="api-reference"></div>
    <script src="/docs/scalar.js"></script>
    <script src="/docs/init.js"></script>
  </body>
</html>
`;

/**
 * `GET /openapi.json` (the OpenAPI 3.1 document of `app`, generated once from its routes'
 * declarations) and `GET /docs`, a rendered reference of it. `app` is the whole API, these
 * routes included (they document nothing themselves).
 */
export function docsRoutes(app: Hono<AppEnv>, options: { publicUrl: string }) {
  let document: Promise<Record<string, unknown>> | undefined;
  let bundleTag: Promise<string> | undefined;
  const etagOfBundle = async () => {
    const { version } = JSON.parse(await readFile(join(scalarPackageDir, "package.json"), "utf8"));
    const { size } = await stat(scalarBundle);
    return `"scalar-${version}-${size}"`;
  };
  return new HonoApp<AppEnv>()
    .get("/openapi.json", async (c) => {
      document ??= generateOpenApiDocument(app, options).catch((error) => {
        document = undefined;
        throw error;
      });
      c.header("Cache-Control", "no-cache");
      return c.json(await document);
    })
    .get("/docs", (c) => {
      c.header("Cache-Control", "no-cache");
      return c.html(page);
    })
    .get("/docs/init.js", (c) => {
      c.header("Cache-Control", "no-cache");
      return c.body(initScript, 200, { "Content-Type": "text/javascript; charset=utf-8" });
    })
    .get("/docs/scalar.js", async (c) => {
      bundleTag ??= etagOfBundle();
      const etag = await bundleTag;
      c.header("ETag", etag);
      c.header("Cache-Control", "no-cache");
      if (c.req.header("if-none-match") === etag) return c.body(null, 304);
      const { size } = await stat(scalarBundle);
      const body = Readable.toWeb(createReadStream(scalarBundle)) as unknown as ReadableStream;
      return c.body(body, 200, {
        "Content-Type": "text/javascript; charset=utf-8",
        "Content-Length": String(size),
      });
    });
}
