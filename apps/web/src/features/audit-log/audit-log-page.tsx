import type { AuditEntry, AuditExport } from "@auditlog/events";
import {
  keepPreviousData,
  useInfiniteQuery,
  useQuery,
  useQueryClient,
} from "@tanstack/react-query";
import { useCallback, useMemo, useState } from "react";
import type { Organization } from "../../api/api-types.ts";
import { ApiRequestError, errorMessage } from "../../api/client.ts";
import { useToasts } from "../../components/toasts.tsx";
import { usePreference } from "../../lib/preferences.ts";
import { loadRecentValues, mergeRecentValues, type RecentValues } from "../../lib/recent-values.ts";
import { auditLogPath, navigate, useLocation } from "../../lib/router.ts";
import { useNow } from "../../lib/use-now.ts";
import { ExportDialog } from "../exports/export-dialog.tsx";
import { exportStartedToast } from "../exports/export-text.ts";
import { ExportsPanel, useActiveExportCount } from "../exports/exports-panel.tsx";
import { ActivityChart } from "../histogram/activity-chart.tsx";
import { LogIntegrityBadge } from "../log-integrity/log-integrity-badge.tsx";
import {
  auditEntryOptions,
  auditLogKeys,
  auditLogListOptions,
  flattenPages,
} from "./audit-log-queries.ts";
import { EntryDetails } from "./entry-details.tsx";
import {
  defaultFilters,
  filtersFromSearch,
  filtersToSearch,
  hasActiveFilters,
  histogramIntervalFor,
  type LogFilters,
  resolveFilters,
} from "./filters.ts";
import { LogTable } from "./log-table.tsx";
import { QueryBar } from "./query-bar.tsx";
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

  const recentValues = useMemo<RecentValues>(() => {
    const seen = entries.slice(0, 300);
    return mergeRecentValues(loadRecentValues(), {
      author: seen.map((entry) => entry.actor.name),
      target: seen.flatMap((entry) => (entry.target ? [entry.target.name ?? entry.target.id] : [])),
      ip: seen.flatMap((entry) => (entry.ip ? [entry.ip] : [])),
      country: seen.flatMap((entry) =>
        entry.location?.countryCode ? [entry.location.countryCode] : [],
      ),
    });
  }, [entries, filters.q]);

  const refresh = () => {
    setAnchor(Date.now());
    void queryClient.invalidateQueries({ queryKey: auditLogKeys.all(slug) });
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
        <div className="page-actions">
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
        />
        <div className="toolbar-row">
          <TypePicker
            selected={filters.types}
            onChange={(types) => setFilters({ ...filters, types })}
          />
          <TimeRangePicker
            filters={filters}
            now={now}
            onChange={(range) => {
              const next: LogFilters = { q: filters.q, types: filters.types, ...range };
              setFilters(next);
            }}
          />
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
            interval={histogramIntervalFor(resolved, anchor)}
            onSelectRange={(from, to) => setFilters({ ...filters, range: "custom", from, to })}
          />
        </div>
      ) : null}

      <LogTable
        entries={listError ? [] : entries}
        loading={list.isPending}
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
