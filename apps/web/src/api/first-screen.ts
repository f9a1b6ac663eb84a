import type { QueryClient } from "@tanstack/react-query";
import { auditLogListOptions } from "../features/audit-log/audit-log-queries.ts";
import { defaultFilters, resolveFilters } from "../features/audit-log/filters.ts";
import { meOptions } from "../features/auth/session-queries.ts";
import { earlyListOrg } from "./early-requests.ts";

/** How long the first render waits for who is signed in (then it shows "Loading…"). */
const meWaitMs = 3_000;
/** How long the first render waits for the first page once the session is known. */
const listWaitMs = 1_000;

const delay = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Puts the answers the entry script asked for (early-requests.ts: who is signed in, the first
 * page of the log) into the query cache before the console's first render, through the same
 * query options the screens use. The first render then shows the rows: one render and one
 * layout, where the shell and then the rows were two passes, each a long task on a slow CPU.
 * Answers slower than the waits below are not waited for: the console shows "Loading…" or the
 * log's skeleton, and the query already under way fills it.
 */
export async function primeFirstScreen(
  queryClient: QueryClient,
  location: Pick<Location, "pathname" | "search">,
): Promise<void> {
  const me = queryClient.prefetchQuery(meOptions());
  await Promise.race([me, delay(meWaitMs)]);
  // Only a member's log: signed out, the page would be a 401 (which ends the session's queries).
  const slug = earlyListOrg(location);
  const session = queryClient.getQueryData(meOptions().queryKey);
  if (slug === null || !session?.organizations.some((org) => org.slug === slug)) return;
  const list = queryClient.prefetchInfiniteQuery(
    auditLogListOptions(slug, resolveFilters(defaultFilters, Date.now())),
  );
  await Promise.race([list, delay(listWaitMs)]);
}
