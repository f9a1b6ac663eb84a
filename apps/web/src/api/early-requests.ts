/**
 * The first screen's API requests, started by the entry script while the console's own chunks
 * are still downloading: on a slow network they would otherwise wait for the JavaScript, then
 * for each other (who is signed in, then the log). `apiRequest` takes a response started here
 * instead of asking again. No imports: this runs before React, zod or anything else is loaded.
 */

/** The log's page size; the list query asks for pages of this many entries. */
export const logPageSize = 100;

/** A started response is used only this soon after it was started; later it may be stale. */
const freshForMs = 15_000;

const started = new Map<string, { at: number; response: Promise<Response> }>();

/**
 * `init`: the request's headers and credentials; for a URL that index.html preloads they must
 * be the preload's (none, same-origin), or Chromium asks again instead of taking the preload.
 */
function start(path: string, init: RequestInit): void {
  const response = fetch(path, init);
  // Never used (signed out, or the page asked for something else): not an unhandled rejection.
  response.catch(() => {});
  started.set(path, { at: Date.now(), response });
}

/** The filter parameters of the log's address; with none of them, the page lists the default. */
const filterParams = ["q", "type", "range", "from", "to"];

/**
 * `GET /v1/me`, and on an organisation's log with the default filter its first page (the
 * address the list query builds, see audit-log-queries.ts). Other pages start their requests
 * once rendered, as before. The pattern mirrors lib/router.ts's audit-log route (that module
 * imports React, which must not be needed here).
 */
export function startEarlyRequests(location: Pick<Location, "pathname" | "search">): void {
  // Preloaded by index.html (<link rel="preload" as="fetch">): a request of the same shape.
  start("/v1/me", { credentials: "same-origin" });
  const slug = earlyListOrg(location);
  if (slug !== null) {
    start(`/v1/orgs/${encodeURIComponent(slug)}/audit-logs?limit=${logPageSize}`, {
      headers: { accept: "application/json" },
      credentials: "same-origin",
    });
  }
}

/** The organisation whose first page (default filter) the entry script asks for; else null. */
export function earlyListOrg(location: Pick<Location, "pathname" | "search">): string | null {
  const match = /^\/orgs\/([^/]+)(?:\/audit-logs)?\/?$/.exec(location.pathname);
  const params = new URLSearchParams(location.search);
  if (!match?.[1] || filterParams.some((name) => params.has(name))) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** The response started early for this GET, once; afterwards (or when stale) undefined. */
export function takeEarlyResponse(path: string): Promise<Response> | undefined {
  const early = started.get(path);
  if (!early) return undefined;
  started.delete(path);
  return Date.now() - early.at <= freshForMs ? early.response : undefined;
}
