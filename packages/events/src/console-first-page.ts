/**
 * The console's first page of an organisation's log, as both ends must spell it: the entry
 * script asks for it before React loads (apps/web/src/api/early-requests.ts), and the API names
 * the same URL in a `Link: rel=preload` header on index.html, so the browser starts it while the
 * HTML is parsed. A preload is taken only by a request of the very same URL, so one function
 * builds it. No imports: this is part of the console's entry script.
 */

/** The log's page size: the list query asks for pages of this many entries. */
export const logPageSize = 100;

/** The filter parameters of the log's address; with none of them, the page lists the default. */
const filterParams = ["q", "type", "range", "from", "to"];

/**
 * The organisation whose log, with the default filter, a console address shows
 * (`/orgs/:slug` or `/orgs/:slug/audit-logs`, no filter parameter); else null.
 */
export function firstLogPageOrg(pathname: string, search: string): string | null {
  const match = /^\/orgs\/([^/]+)(?:\/audit-logs)?\/?$/.exec(pathname);
  const params = new URLSearchParams(search);
  if (!match?.[1] || filterParams.some((name) => params.has(name))) return null;
  try {
    return decodeURIComponent(match[1]);
  } catch {
    return null;
  }
}

/** The API request of that first page. */
export function firstLogPagePath(slug: string): string {
  return `/v1/orgs/${encodeURIComponent(slug)}/audit-logs?limit=${logPageSize}`;
}
