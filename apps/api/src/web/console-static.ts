import { existsSync } from "node:fs";
import { join } from "node:path";
import { serveStatic } from "@hono/node-server/serve-static";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError, errorResponse } from "../errors.ts";
import { isApiPath } from "../http/api-paths.ts";

/**
 * Serves the built web console from `dir`: its files as they are (hashed assets cached for a
 * year), and index.html for any other GET outside the API, so a shared link such as
 * /orgs/acme/audit-logs?q=… opens the console, which then routes itself.
 */
export function consoleStatic(dir: string) {
  const notBuilt = () =>
    new ApiError(
      "not_found",
      "the web console is not built: run `npx pnpm@12.4.2 --filter @auditlog/web build`",
    );
  const files =
    dir !== "" && existsSync(join(dir, "index.html"))
      ? {
          any: serveStatic<AppEnv>({ root: dir }),
          index: serveStatic<AppEnv>({ root: dir, path: "index.html" }),
        }
      : null;
  const skip = async () => {};

  return async (c: Context<AppEnv>) => {
    if (isApiPath(c.req.path)) {
      return errorResponse(c, new ApiError("not_found", "no such route"));
    }
    // Source maps would publish the console's source: never served, even if a build left one.
    if (c.req.path.endsWith(".map")) {
      return errorResponse(c, new ApiError("not_found", "no such file"));
    }
    if (!files) return errorResponse(c, notBuilt());
    const found = await files.any(c, skip);
    if (found) {
      // Vite names assets by content hash; everything else may change with the next build.
      const hashed = c.req.path.startsWith("/assets/");
      found.headers.set(
        "Cache-Control",
        hashed ? "public, max-age=31536000, immutable" : "no-cache",
      );
      return found;
    }
    // A missing asset is a 404, not the console page (which would fail to load as a script).
    if (c.req.path.startsWith("/assets/")) {
      return errorResponse(c, new ApiError("not_found", "no such file"));
    }
    const index = await files.index(c, skip);
    index?.headers.set("Cache-Control", "no-cache");
    return index ?? errorResponse(c, notBuilt());
  };
}
