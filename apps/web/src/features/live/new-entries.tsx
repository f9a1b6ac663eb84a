import type { EntriesStoredEvent } from "@auditlog/events";
import { type QueryClient, useQuery } from "@tanstack/react-query";
import { useEffect, useRef, useState } from "react";

/**
 * What the live stream said was stored in one organisation's log since the console opened:
 * a running total of `entries.stored` counts and the highest `seq` announced. Kept in the query
 * cache (never fetched, only set by the stream) so sign-out's `queryClient.clear()` drops it.
 */
export interface StoredEntries {
  total: number;
  highestSeq: number;
}

const none: StoredEntries = { total: 0, highestSeq: 0 };

export const newEntriesKeys = {
  stored: (orgSlug: string) => ["orgs", orgSlug, "new-entries"] as const,
};

/** The stream's `entries.stored` event: added to the organisation's running total. */
export function recordStoredEntries(queryClient: QueryClient, event: EntriesStoredEvent): void {
  queryClient.setQueryData<StoredEntries>(newEntriesKeys.stored(event.orgSlug), (previous) => {
    const current = previous ?? none;
    // Summed, not derived from seqs: two writes committing together may both read the same
    // highest seq, and the API's own entries (hidden by default) take seqs too.
    return {
      total: current.total + event.count,
      highestSeq: Math.max(current.highestSeq, event.highestSeq),
    };
  });
}

export function useStoredEntries(orgSlug: string): StoredEntries {
  const { data } = useQuery({
    queryKey: newEntriesKeys.stored(orgSlug),
    queryFn: () => none,
    enabled: false,
    initialData: none,
    staleTime: Number.POSITIVE_INFINITY,
    gcTime: Number.POSITIVE_INFINITY,
  });
  return data;
}

/**
 * How many entries were stored since the list on screen was loaded. The baseline is the running
 * total when the latest full (re)load of the list STARTED, so an entry stored while it loaded is
 * counted rather than lost; loading older pages does not move it (they bring no new entries).
 *
 * The count is of the whole log, not of the current filter: the announcement carries no content
 * (by design, nothing personal crosses Redis), so matching the filter would cost one filtered
 * count query per open console per write. The pill says so ("in this log"); clicking it loads
 * the list under the current filter.
 */
export function useNewEntryCount(
  orgSlug: string,
  list: { isFetching: boolean; isFetchingNextPage: boolean },
): number {
  const stored = useStoredEntries(orgSlug);
  const totalRef = useRef(stored.total);
  totalRef.current = stored.total;
  const [seen, setSeen] = useState(stored.total);
  const startedAt = useRef<number | null>(null);
  const reloading = list.isFetching && !list.isFetchingNextPage;
  useEffect(() => {
    if (reloading) {
      startedAt.current = totalRef.current;
    } else if (startedAt.current !== null) {
      setSeen(startedAt.current);
      startedAt.current = null;
    }
  }, [reloading]);
  return Math.max(0, stored.total - seen);
}

/** "N new entries in this log": shown over the table's top edge; clicking loads them. */
export function NewEntriesPill({ count, onShow }: { count: number; onShow: () => void }) {
  return (
    <div className="new-entries-slot" role="status" aria-live="polite">
      {count > 0 ? (
        <button type="button" className="new-entries-pill" onClick={onShow}>
          <span aria-hidden="true">↑ </span>
          {count === 1 ? "1 new entry" : `${count.toLocaleString("en")} new entries`}
          <span className="new-entries-scope"> in this log</span>
        </button>
      ) : null}
    </div>
  );
}
