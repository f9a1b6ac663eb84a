/**
 * The first screen's API requests, started by the entry script while the console's own chunks
 * are still downloading: on a slow network they would otherwise wait for the JavaScript, then
 * for each other (who is signed in, then the log). `apiRequest` takes a response started here
 * instead of asking again. It imports only zod-free code with no imports of its own: this runs
 * before React, zod or anything else is loaded.
 */

import {
  firstLogPageOrg,
  firstLogPagePath,
  logPageSize,
} from "@auditlog/events/console-first-page";

export { logPageSize };

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
    // Also preloaded (the API's `Link` header on index.html): the preload's shape, no headers.
    start(firstLogPagePath(slug), { credentials: "same-origin" });
  }
}

/** The organisation whose first page (default filter) the entry script asks for; else null. */
export function earlyListOrg(location: Pick<Location, "pathname" | "search">): string | null {
  return firstLogPageOrg(location.pathname, location.search);
}

/** The response started early for this GET, once; afterwards (or when stale) undefined. */
export function takeEarlyResponse(path: string): Promise<Response> | undefined {
  const early = started.get(path);
  if (!early) return undefined;
  started.delete(path);
  return Date.now() - early.at <= freshForMs ? early.response : undefined;
}
