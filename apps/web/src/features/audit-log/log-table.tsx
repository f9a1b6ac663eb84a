import type { AuditEntry } from "@auditlog/events";
import { type KeyboardEvent, type ReactNode, useEffect, useRef, useState } from "react";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { zoneLabel } from "../../lib/format-time.ts";
import type { Preferences } from "../../lib/preferences.ts";
import { useTimeZone } from "../../lib/time-zone.ts";
import { phoneQuery, useMediaQuery } from "../../lib/use-media-query.ts";
import { PivotMenu, pivotTriggerLabel } from "../facets/pivot-menu.tsx";
import type { PivotKey } from "../facets/query-terms.ts";
import { ActorCell, LocationCell, TimeCell, TypeBadge } from "./entry-cells.tsx";
import { useFixedRows } from "./use-fixed-rows.ts";

interface LogTableProps {
  entries: AuditEntry[];
  /** First page still loading: skeleton rows of the final height. */
  loading: boolean;
  /**
   * The rows are the previous filter's, kept while the new filter's first page loads: they are
   * dimmed and the table is busy, so nobody reads them as the answer to the new filter.
   */
  stale?: boolean;
  hasMore: boolean;
  loadingMore: boolean;
  loadMoreError: ReactNode | null;
  onLoadMore: () => void;
  onOpen: (entry: AuditEntry) => void;
  openId: string | null;
  now: number;
  /** Shown instead of rows when there are none (empty or error state). */
  placeholder?: ReactNode;
  /** Compact: one line per entry. */
  density?: Preferences["density"];
  /** A filter is applied: the end of the list is the oldest match, not the log's first entry. */
  filtered?: boolean;
}

/** Row heights, kept in step with styles.css (which lays the cells out for each). */
export const rowHeights = {
  desktop: { comfortable: 56, compact: 26 },
  phone: { comfortable: 92, compact: 62 },
} as const;
const skeletonRows = 10;

/**
 * The log: a virtualised table (only visible rows are in the DOM), newest first, loading older
 * pages as you scroll. Rows are one tab stop: arrows, Page Up/Down, Home and End move between
 * them, Enter opens the details.
 */
export function LogTable(props: LogTableProps) {
  const { entries, loading, hasMore, loadingMore, onLoadMore, onOpen, openId, now } = props;
  const stale = !loading && props.stale === true;
  const { timeZone } = useTimeZone();
  const phone = useMediaQuery(phoneQuery);
  const density = props.density ?? "comfortable";
  const rowHeight = rowHeights[phone ? "phone" : "desktop"][density];
  const scrollRef = useRef<HTMLDivElement>(null);
  const [focusIndex, setFocusIndex] = useState(0);
  const pendingFocus = useRef<number | null>(null);
  // The one row value whose pivot menu has been opened: only it mounts a popover (state, effects,
  // a panel); every other value has a plain button, so the rows of the first render stay cheap.
  const [pivoted, setPivoted] = useState<{ id: string; key: PivotKey } | null>(null);
  // The triggers show only on a row's hover or focus, and take no room (styles.css): they come
  // after the first paint, which then lays out and paints the rows without their 3 × 3 elements.
  const painted = useAfterFirstPaint();

  // Placeholder rows after the loaded ones while more exist: they are where the next page lands.
  const trailing = hasMore ? 3 : 0;
  const count = loading ? skeletonRows : entries.length + trailing;
  // On a phone the page scrolls, not the table: one scroll, no scroll area inside another.
  const { start, end, totalHeight, scrollToIndex } = useFixedRows({
    count,
    rowHeight,
    scrollRef,
    scrollWithPage: phone,
  });

  useEffect(() => {
    if (
      !loading &&
      !stale &&
      hasMore &&
      !loadingMore &&
      !props.loadMoreError &&
      end >= entries.length - 20
    ) {
      onLoadMore();
    }
  }, [loading, stale, hasMore, loadingMore, props.loadMoreError, end, entries.length, onLoadMore]);

  useEffect(() => {
    if (focusIndex >= entries.length && entries.length > 0) setFocusIndex(entries.length - 1);
  }, [focusIndex, entries.length]);

  useEffect(() => {
    if (pendingFocus.current === null) return;
    const row = scrollRef.current?.querySelector<HTMLElement>(
      `[data-index="${pendingFocus.current}"]`,
    );
    if (row) {
      row.focus({ preventScroll: true });
      pendingFocus.current = null;
    }
  });

  const moveFocus = (index: number) => {
    const target = Math.max(0, Math.min(entries.length - 1, index));
    scrollToIndex(target);
    setFocusIndex(target);
    pendingFocus.current = target;
  };

  const onRowKeyDown = (event: KeyboardEvent<HTMLDivElement>, index: number) => {
    // Keys on a pivot trigger are the trigger's (Enter opens its menu, not the details).
    if (event.target !== event.currentTarget) return;
    const visible = phone ? window.innerHeight : scrollRef.current?.clientHeight || 600;
    const page = Math.max(1, Math.floor(visible / rowHeight) - 1);
    const moves: Record<string, number> = {
      ArrowDown: index + 1,
      ArrowUp: index - 1,
      PageDown: index + page,
      PageUp: index - page,
      Home: 0,
      End: entries.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      moveFocus(target);
    } else if (event.key === "Enter" || event.key === " ") {
      event.preventDefault();
      const entry = entries[index];
      if (entry) onOpen(entry);
    }
  };

  const pivot = (entry: AuditEntry, key: PivotKey, value: string) => {
    if (!painted) return null;
    if (pivoted?.id === entry.id && pivoted.key === key) {
      return <PivotMenu queryKey={key} value={value} compact initiallyOpen />;
    }
    return (
      <span className="pivot pivot-compact">
        <button
          type="button"
          className="icon-button pivot-trigger"
          aria-expanded={false}
          aria-label={pivotTriggerLabel(key, value)}
          data-pivot={key}
        >
          <span aria-hidden="true">⋯</span>
        </button>
      </span>
    );
  };

  const rows: ReactNode[] = [];
  for (let index = start; index < end; index++) {
    const entry = loading ? undefined : entries[index];
    const style = { height: rowHeight, transform: `translateY(${index * rowHeight}px)` };
    if (!entry) {
      rows.push(
        <div
          key={`skeleton-${index}`}
          className="log-row log-row-skeleton"
          style={style}
          aria-hidden="true"
        >
          <span className="skeleton skeleton-time" />
          <span className="skeleton skeleton-actor" />
          <span className="skeleton skeleton-type" />
          <span className="skeleton skeleton-text" />
          <span className="skeleton skeleton-location" />
        </div>,
      );
      continue;
    }
    rows.push(
      <div
        key={entry.id}
        role="row"
        data-index={index}
        aria-rowindex={index + 2}
        tabIndex={index === focusIndex ? 0 : -1}
        className={`log-row${entry.id === openId ? " is-open" : ""}`}
        style={style}
        onClick={(event) => {
          // A plain pivot trigger (see `pivot`): its menu replaces it, the details stay shut.
          const trigger = (event.target as Element).closest<HTMLElement>("[data-pivot]");
          if (trigger) {
            setPivoted({ id: entry.id, key: trigger.dataset.pivot as PivotKey });
            return;
          }
          setFocusIndex(index);
          onOpen(entry);
        }}
        onFocus={() => setFocusIndex(index)}
        onKeyDown={(event) => onRowKeyDown(event, index)}
      >
        <div role="cell" className="cell cell-col-time">
          <TimeCell iso={entry.occurredAt} now={now} />
        </div>
        <div role="cell" className="cell cell-col-actor">
          <ActorCell actor={entry.actor} />
          {pivot(entry, "author", entry.actor.name)}
        </div>
        <div role="cell" className="cell cell-col-type">
          <TypeBadge type={entry.type} category={entry.category} />
          {pivot(entry, "type", entry.type)}
        </div>
        <div role="cell" className="cell cell-col-description" title={entry.description}>
          {entry.description}
        </div>
        <div role="cell" className="cell cell-col-location">
          <LocationCell entry={entry} />
          {entry.ip ? pivot(entry, "ip", entry.ip) : null}
        </div>
      </div>,
    );
  }

  const empty = !loading && entries.length === 0;
  const reachedEnd = !loading && !hasMore && !props.loadMoreError && entries.length > 0;
  return (
    <div
      className={`log-table log-table-${density}${stale ? " is-stale" : ""}`}
      role="table"
      aria-label="Audit log entries, newest first"
      aria-rowcount={loading || stale ? -1 : entries.length + 1}
      aria-busy={loading || loadingMore || stale}
    >
      <div role="rowgroup" className="log-head">
        <div role="row" aria-rowindex={1} className="log-row log-row-head">
          <div role="columnheader" className="cell cell-col-time" title={`Times in ${timeZone}`}>
            Time <span className="time-zone-name">({zoneLabel(timeZone)})</span>
          </div>
          <div role="columnheader" className="cell cell-col-actor">
            Actor
          </div>
          <div role="columnheader" className="cell cell-col-type">
            Type
          </div>
          <div role="columnheader" className="cell cell-col-description">
            Description
          </div>
          <div role="columnheader" className="cell cell-col-location">
            Location / IP
          </div>
        </div>
      </div>
      <div ref={scrollRef} className="log-scroll" role="rowgroup">
        {empty ? (
          <div className="log-placeholder">{props.placeholder}</div>
        ) : (
          <div className="log-rows" style={{ height: totalHeight }}>
            {rows}
          </div>
        )}
        {reachedEnd ? (
          <p className="log-end">
            {props.filtered
              ? `End of the results: ${entries.length === 1 ? "1 entry matches" : `${entries.length.toLocaleString()} entries match`} this filter.`
              : `Beginning of the log: ${entries.length === 1 ? "its first entry" : `all ${entries.length.toLocaleString()} entries`} shown.`}
          </p>
        ) : null}
        {props.loadMoreError ? (
          <div className="log-more-error" role="alert">
            {props.loadMoreError}
          </div>
        ) : null}
      </div>
    </div>
  );
}
