import { existsSync } from "node:fs";
import { readFile, stat } from "node:fs/promises";
import { extname, join } from "node:path";
import { firstLogPageOrg, firstLogPagePath } from "@auditlog/events/console-first-page";
import type { Context } from "hono";
import { getMimeType } from "hono/utils/mime";
import type { AppEnv } from "../app-env.ts";
import { readSessionCookie } from "../auth/sessions.ts";
import { ApiError, errorResponse } from "../errors.ts";
import { isApiPath } from "../http/api-paths.ts";

/**
 * Serves the built web console from `dir`: its files, and index.html for any other GET outside
 * the API, so a shared link such as /orgs/acme/audit-logs?q=… opens the console, which then
 * routes itself.
 *
 * Compressed: the build writes `<file>.br` and `<file>.gz` beside each text file
 * (apps/web/vite-plugins.ts), and the variant the request's Accept-Encoding prefers is sent as it
 * is, with `Vary: Accept-Encoding` on every answer that has variants. Cached: hashed assets
 * (/assets/, named by content) for a year and immutable; everything else (index.html above all,
 * which names the current assets) revalidated on each use (`no-cache`, with an ETag).
 */
export function consoleStatic(dir: string) {
  const notBuilt = () =>
    new ApiError(
      "not_found",
      "the web console is not built: run `npx pnpm@12.4.2 --filter @auditlog/web build`",
    );
  const built = dir !== "" && existsSync(join(dir, "index.html"));

  return async (c: Context<AppEnv>) => {
    const path = c.req.path;
    if (isApiPath(path)) {
      return errorResponse(c, new ApiError("not_found", "no such route"));
    }
    // Source maps would publish the console's source: never served, even if a build left one.
    // The precompressed variants are encodings of a file, not files of their own.
    if (/\.(map|br|gz)$/.test(path)) {
      return errorResponse(c, new ApiError("not_found", "no such file"));
    }
    if (!built) return errorResponse(c, notBuilt());
    const file = consoleFilePath(path);
    const found = file ? await sendFile(c, dir, file) : null;
    if (found) return found;
    // A missing asset is a 404, not the console page (which would fail to load as a script).
    if (path.startsWith("/assets/")) {
      return errorResponse(c, new ApiError("not_found", "no such file"));
    }
    return (
      (await sendFile(c, dir, "/index.html", firstPagePreload(c))) ?? errorResponse(c, notBuilt())
    );
  };
}

/**
 * On the address of an organisation's log with the default filter, and for a signed-in browser,
 * a `Link: rel=preload` naming the log's first page: the browser starts it while it parses the
 * HTML, instead of after the entry script has downloaded and run, and the entry script's request
 * of the same URL (apps/web/src/api/early-requests.ts) takes its answer. Signed out, it would
 * only fetch a 401.
 */
function firstPagePreload(c: Context<AppEnv>): Record<string, string> {
  if (!readSessionCookie(c)) return {};
  const slug = firstLogPageOrg(c.req.path, new URL(c.req.url).search);
  if (slug === null) return {};
  return { Link: `<${firstLogPagePath(slug)}>; rel=preload; as=fetch; crossorigin=anonymous` };
}

/**
 * The file a request path names, when it can name one: plain segments of the characters build
 * output uses, none starting with a dot. Anything else (encoded characters, `..`, a trailing
 * slash) is a console route, never a path on disk.
 */
function consoleFilePath(path: string): string | null {
  if (!/^(\/[A-Za-z0-9_-][A-Za-z0-9._-]*)+$/.test(path)) return null;
  return path;
}

/** Encodings with a precompressed variant, in the server's order of preference. */
const encodings = [
  { name: "br", suffix: ".br" },
  { name: "gzip", suffix: ".gz" },
] as const;
type Encoding = (typeof encodings)[number];

/**
 * The encodings the request accepts, best first (RFC 9110 §12.5.3): q-values honoured, `q=0`
 * refuses, `*` covers what is not named; equal weights keep the server's order (brotli first).
 */
export function acceptedEncodings(header: string | undefined): Encoding[] {
  const weights = new Map<string, number>();
  for (const part of (header ?? "").split(",")) {
    const [token, ...params] = part.trim().toLowerCase().split(";");
    if (!token) continue;
    let weight = 1;
    for (const param of params) {
      const match = /^\s*q\s*=\s*([0-9.]+)\s*$/.exec(param);
      if (match?.[1]) weight = Number(match[1]);
    }
    weights.set(token === "x-gzip" ? "gzip" : token, Number.isFinite(weight) ? weight : 0);
  }
  const weightOf = (name: string) => weights.get(name) ?? weights.get("*") ?? 0;
  return encodings
    .filter((encoding) => weightOf(encoding.name) > 0)
    .sort((a, b) => weightOf(b.name) - weightOf(a.name));
}

async function fileSize(path: string): Promise<{ size: number; mtimeMs: number } | null> {
  try {
    const stats = await stat(path);
    return stats.isFile() ? { size: stats.size, mtimeMs: stats.mtimeMs } : null;
  } catch {
    return null;
  }
}

async function sendFile(
  c: Context<AppEnv>,
  dir: string,
  file: string,
  extraHeaders: Record<string, string> = {},
) {
  const plain = join(dir, file);
  const plainStats = await fileSize(plain);
  if (!plainStats) return null;
  const type = getMimeType(file) ?? "application/octet-stream";
  // Which variants exist decides whether the answer varies: a file the build did not compress
  // (an image) is the same for everyone.
  const variants: { encoding: Encoding; size: number; mtimeMs: number }[] = [];
  for (const encoding of encodings) {
    const stats = await fileSize(plain + encoding.suffix);
    if (stats) variants.push({ encoding, ...stats });
  }
  const chosen = acceptedEncodings(c.req.header("accept-encoding"))
    .map((encoding) => variants.find((variant) => variant.encoding === encoding))
    .find((variant) => variant !== undefined);

  const hashed = file.startsWith("/assets/") && extname(file) !== "";
  const stats = chosen ?? plainStats;
  const headers: Record<string, string> = {
    ...extraHeaders,
    "Content-Type": type,
    // Vite names assets by content hash; everything else may change with the next build.
    "Cache-Control": hashed ? "public, max-age=31536000, immutable" : "no-cache",
    ETag: `"${stats.size.toString(36)}-${Math.trunc(stats.mtimeMs).toString(36)}${chosen ? `-${chosen.encoding.name}` : ""}"`,
  };
  if (variants.length > 0) headers.Vary = "Accept-Encoding";
  if (chosen) headers["Content-Encoding"] = chosen.encoding.name;
  if (c.req.header("if-none-match") === headers.ETag) return c.body(null, 304, headers);
  const bytes = await readFile(chosen ? plain + chosen.encoding.suffix : plain);
  return c.body(new Uint8Array(bytes), 200, headers);
}
