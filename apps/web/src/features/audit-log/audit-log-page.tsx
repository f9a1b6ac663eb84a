import type { AuditEntry, AuditExport } from "@auditlog/events";
import {
  keepPreviousData,
  useInfiniteQuery,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useCallback, useEffect, useMemo, useState } from "react";
import type { Organization } from "../../api/api-types.ts";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { useToasts } from "../../components/toasts.tsx";
import { loadRecentValues, type RecentValues } from "../../lib/recent-values.ts";
import { auditLogPath, navigate, orgSettingsPath, useLocation } from "../../lib/router.ts";
import { useNow } from "../../lib/use-now.ts";
import { usePreference } from "../../lib/use-preference.ts";
import { useActiveExportCount } from "../exports/active-export-count.ts";
import { exportStartedToast } from "../exports/export-text.ts";
import { ExportDialog, ExportsPanel, preloadExports } from "../exports/lazy-exports.tsx";
import { suggestionsOptions } from "../facets/facet-queries.ts";
import { FacetRail } from "../facets/facet-rail.tsx";
import { FilterChips } from "../facets/filter-chips.tsx";
import {
  type PivotKey,
  type PivotMode,
  pivotQuery,
  selectedTypes,
  withTypes,
} from "../facets/query-terms.ts";
import { ActivityChart } from "../histogram/activity-chart.tsx";
import { NewEntriesPill, useNewEntryCount } from "../live/new-entries.tsx";
import { LogIntegrityBadge } from "../log-integrity/log-integrity-badge.tsx";
import { SavedViewsMenu } from "../saved-views/saved-views-menu.tsx";
import {
  auditEntryOptions,
  auditLogKeys,
  auditLogListOptions,
  flattenPages,
} from "./audit-log-queries.ts";
import {
  defaultFilters,
  filtersFromSearch,
  filtersToSearch,
  hasActiveFilters,
  type LogFilters,
  resolveFilters,
} from "./filters.ts";
import { EntryDetails } from "./lazy-entry-details.tsx";
import { LogTable } from "./log-table.tsx";
import { QueryBar } from "./query-bar.tsx";
import type { RemoteValues } from "./query-completion.ts";
import { TimeRangePicker } from "./time-range-picker.tsx";
import { TypePicker } from "./type-picker.tsx";
import { chartRegionId, ViewOptions } from "./view-options.tsx";

/** One organisation's log: query bar, type and time filters, chart, table, details, exports. */
export function AuditLogPage({ org }: { org: Organization }) {
  const slug = org.slug;
  const location = useLocation();
  const queryClient = useQueryClient();
  const toasts = useToasts();
  const now = useNow();
  const filterSearch = filtersToSearch(filtersFromSearch(location.search));
  const filters = useMemo(() => filtersFromSearch(filterSearch), [filterSearch]);
  const entryId = new URLSearchParams(location.search).get("entry");
  const [anchor, setAnchor] = useState(() => Date.now());
  const resolved = useMemo(() => resolveFilters(filters, anchor), [filters, anchor]);
  const [dialog, setDialog] = useState<"export" | "exports" | null>(null);
  const activeExports = useActiveExportCount(slug);
  const [density] = usePreference("density");
  const [chart] = usePreference("chart");

  const setFilters = useCallback(
    (next: LogFilters) => {
      if (next.range !== filters.range || next.from !== filters.from) setAnchor(Date.now());
      navigate(auditLogPath(slug, filtersToSearch(next)));
    },
    [slug, filters],
  );
  // Pivots, chips, facets and the type picker all edit `q`: the address stays the one truth.
  const setQuery = useCallback((q: string) => setFilters({ ...filters, q }), [filters, setFilters]);
  const pivot = useCallback(
    (key: PivotKey, value: string, mode: PivotMode) =>
      setQuery(pivotQuery(filters.q, key, value, mode)),
    [filters.q, setQuery],
  );
  const openEntry = useCallback(
    (id: string | null) =>
      navigate(auditLogPath(slug, filtersToSearch(filters, { entry: id })), { replace: true }),
    [slug, filters],
  );

  const list = useInfiniteQuery({
    ...auditLogListOptions(slug, resolved),
    placeholderData: keepPreviousData,
  });
  const entries = useMemo(() => flattenPages(list.data), [list.data]);
  const fetchNextPage = list.fetchNextPage;
  const loadMore = useCallback(() => void fetchNextPage(), [fetchNextPage]);

  const listError = list.isError && !list.isFetchNextPageError ? list.error : null;
  const queryError =
    listError instanceof ApiRequestError && listError.status === 400
      ? (listError.details.find((detail) => detail.path === "q") ?? null)
      : null;

  const openFromList = entryId ? entries.find((entry) => entry.id === entryId) : undefined;
  const single = useQuery({
    ...auditEntryOptions(slug, entryId ?? ""),
    enabled: !!entryId && !openFromList && !list.isPending,
    retry: false,
  });
  const openEntryData: AuditEntry | undefined = openFromList ?? single.data;
  const openIndex = openFromList ? entries.indexOf(openFromList) : -1;
  const newerEntry = openIndex > 0 ? entries[openIndex - 1] : undefined;
  const olderEntry = openIndex >= 0 ? entries[openIndex + 1] : undefined;
  // Stepping towards the end of what is loaded fetches the next page, so `j` keeps going.
  const nearEnd = openIndex >= 0 && openIndex >= entries.length - 5;
  const canLoadMore = list.hasNextPage && !list.isFetchingNextPage;
  useEffect(() => {
    if (nearEnd && canLoadMore) void fetchNextPage();
  }, [nearEnd, canLoadMore, fetchNextPage]);

  // The user's own recent values; authors, targets and IPs of the whole log come from the server.
  const recentValues = useMemo<RecentValues>(() => loadRecentValues(), [filters.q]);
  const [valueTerm, setValueTerm] = useState<{ key: RemoteValues["key"]; prefix: string } | null>(
    null,
  );
  const suggestions = useQuery({
    ...suggestionsOptions(slug, valueTerm?.key ?? "author", valueTerm?.prefix ?? ""),
    enabled: valueTerm !== null,
  });
  const remoteValues: RemoteValues | null =
    valueTerm && suggestions.data?.key === valueTerm.key
      ? { ...valueTerm, values: suggestions.data.values }
      : null;

  const refresh = () => {
    setAnchor(Date.now());
    void queryClient.invalidateQueries({ queryKey: auditLogKeys.all(slug) });
  };

  const newEntries = useNewEntryCount(slug, list);
  const showNewEntries = () => {
    refresh();
    // The newest entries are at the top: scroll the table (and, on phones, the page) there.
    document.querySelector(".log-scroll")?.scrollTo({ top: 0 });
    window.scrollTo({ top: 0 });
  };

  const onExportCreated = (created: AuditExport) => {
    setDialog("exports");
    toasts.show(exportStartedToast(created));
  };

  const filtered = hasActiveFilters(filters);
  const placeholder = listError ? (
    <div className="empty-state" role="alert">
      <p className="empty-title">
        {queryError ? "The query was refused" : "Could not load the audit log"}
      </p>
      <p className="muted">{errorMessage(listError)}</p>
      {queryError ? null : (
        <button type="button" className="button" onClick={() => void list.refetch()}>
          Try again
        </button>
      )}
    </div>
  ) : filtered ? (
    <div className="empty-state">
      <p className="empty-title">No entries match this filter</p>
      <p className="muted">Try a wider time range or fewer conditions.</p>
      <button type="button" className="button" onClick={() => setFilters(defaultFilters)}>
        Clear all filters
      </button>
    </div>
  ) : (
    <div className="empty-state">
      <p className="empty-title">No entries yet</p>
      <p className="muted">
        Administrative actions in {org.name} appear here as soon as a platform service sends them to
        the ingestion API (<code>POST /v1/events</code>).
      </p>
    </div>
  );

  return (
    <div className="log-page">
      <div className="page-head">
        <div>
          <h1>Audit log</h1>
          <p className="muted page-subtitle">
            Who did what in <strong>{org.name}</strong>, newest first.
          </p>
          <LogIntegrityBadge org={org} now={now} />
        </div>
        <div className="page-actions" onPointerOver={preloadExports} onFocus={preloadExports}>
          <SettingsLink orgSlug={slug} />
          <button type="button" className="button" onClick={() => setDialog("exports")}>
            Export history
            {activeExports > 0 ? (
              <span
                className="count-badge count-badge-inline"
                aria-label={`${activeExports} running`}
              >
                {activeExports}
              </span>
            ) : null}
          </button>
          <button
            type="button"
            className="button button-primary"
            onClick={() => setDialog("export")}
          >
            New export…
          </button>
        </div>
      </div>

      <div className="toolbar">
        <QueryBar
          value={filters.q}
          onSubmit={(q) => setFilters({ ...filters, q })}
          serverError={queryError}
          recentValues={recentValues}
          onValueTerm={setValueTerm}
          remoteValues={remoteValues}
        />
        <FilterChips q={filters.q} onQuery={setQuery} />
        <div className="toolbar-row">
          <TypePicker
            selected={selectedTypes(filters.q)}
            onChange={(types) => setQuery(withTypes(filters.q, types))}
          />
          <TimeRangePicker
            filters={filters}
            now={now}
            onChange={(range) => {
              const next: LogFilters = { q: filters.q, types: filters.types, ...range };
              setFilters(next);
            }}
          />
          <SavedViewsMenu orgSlug={slug} filters={filters} onApply={setFilters} />
          <div className="toolbar-spacer" />
          <ViewOptions />
          {filtered ? (
            <button
              type="button"
              className="button button-quiet"
              onClick={() => setFilters(defaultFilters)}
            >
              Clear filters
            </button>
          ) : null}
          <button
            type="button"
            className="button"
            onClick={refresh}
            aria-label="Refresh the log"
            disabled={list.isFetching && !list.isFetchingNextPage}
          >
            <RefreshIcon spinning={list.isFetching && !list.isFetchingNextPage} />
            <span className="hide-phone">Refresh</span>
          </button>
        </div>
      </div>

      {chart === "shown" ? (
        <div id={chartRegionId} className="chart-region">
          <ActivityChart
            orgSlug={slug}
            filters={resolved}
            onSelectRange={(from, to) => setFilters({ ...filters, range: "custom", from, to })}
          />
        </div>
      ) : null}

      <NewEntriesPill count={newEntries} onShow={showNewEntries} />
      <div className="log-body">
        <FacetRail orgSlug={slug} filters={resolved} onQuery={setQuery} onPivot={pivot} />
        <LogTable
          entries={listError ? [] : entries}
          loading={list.isPending}
          stale={list.isPlaceholderData}
          hasMore={!listError && list.hasNextPage}
          loadingMore={list.isFetchingNextPage}
          loadMoreError={
            list.isFetchNextPageError ? (
              <>
                Could not load older entries: {errorMessage(list.error)}{" "}
                <button type="button" className="button button-small" onClick={loadMore}>
                  Retry
                </button>
              </>
            ) : null
          }
          onLoadMore={loadMore}
          onOpen={(entry) => openEntry(entry.id)}
          openId={entryId}
          now={now}
          placeholder={placeholder}
          density={density}
          filtered={filtered}
        />
      </div>

      {entryId ? (
        <EntryDetails
          org={org}
          entry={openEntryData}
          loading={!openEntryData && (list.isPending || single.isFetching)}
          error={
            !openEntryData && single.isError
              ? single.error instanceof ApiRequestError && single.error.status === 404
                ? "This entry does not exist in this organisation."
                : errorMessage(single.error)
              : null
          }
          onClose={() => openEntry(null)}
          now={now}
          onPrevious={newerEntry ? () => openEntry(newerEntry.id) : undefined}
          onNext={olderEntry ? () => openEntry(olderEntry.id) : undefined}
        />
      ) : null}
      {dialog === "export" ? (
        <ExportDialog
          orgSlug={slug}
          filters={resolved}
          onClose={() => setDialog(null)}
          onCreated={onExportCreated}
        />
      ) : null}
      {dialog === "exports" ? (
        <ExportsPanel orgSlug={slug} onClose={() => setDialog(null)} />
      ) : null}
    </div>
  );
}

/** To the organisation's settings (retention, legal hold); on a phone the gear alone. */
function SettingsLink({ orgSlug }: { orgSlug: string }) {
  const to = orgSettingsPath(orgSlug);
  return (
    <a
      href={to}
      className="button settings-link"
      aria-label="Settings: retention and legal hold"
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
        <circle cx="10" cy="10" r="2.6" fill="none" stroke="currentColor" strokeWidth="1.7" />
        <path
          d="M10 2.5v2.2M10 15.3v2.2M2.5 10h2.2M15.3 10h2.2M4.7 4.7l1.6 1.6M13.7 13.7l1.6 1.6M4.7 15.3l1.6-1.6M13.7 6.3l1.6-1.6"
          fill="none"
          stroke="currentColor"
          strokeWidth="1.7"
          strokeLinecap="round"
        />
      </svg>
      <span className="hide-phone">Settings</span>
    </a>
  );
}

function RefreshIcon({ spinning }: { spinning: boolean }) {
  return (
    <svg
      className={spinning ? "spin" : undefined}
      viewBox="0 0 20 20"
      width="16"
      height="16"
      aria-hidden="true"
    >
      <path
        d="M16 10a6 6 0 1 1-1.8-4.3M16 3.5v3h-3"
        fill="none"
        stroke="currentColor"
        strokeWidth="1.8"
        strokeLinecap="round"
        strokeLinejoin="round"
      />
    </svg>
  );
}
