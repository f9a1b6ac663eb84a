import {
  type AuditFacets,
  type Category,
  categoryLabels,
  type FacetKey,
  facetKeys,
  facetQueryKeys,
  getEventSummary,
} from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import { useId, useState } from "react";
import { errorMessage } from "../../api/client.ts";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { useMediaQuery } from "../../lib/use-media-query.ts";
import type { ResolvedFilters } from "../audit-log/filters.ts";
import { facetsOptions } from "./facet-queries.ts";
import { isSelected, type PivotKey, type PivotMode, removeValue } from "./query-terms.ts";

const facetTitles: Record<FacetKey, string> = {
  actor: "Actors",
  type: "Types",
  category: "Categories",
  country: "Countries",
  target: "Targets",
};

const regionNames = (() => {
  try {
    return new Intl.DisplayNames(undefined, { type: "region" });
  } catch {
    return null;
  }
})();

const countFormat = new Intl.NumberFormat();

/** How a facet value reads: a type's title, a category's or country's name, a target's name. */
export function facetValueLabel(facet: FacetKey, value: string, label?: string): string {
  if (label) return label;
  if (facet === "category") return categoryLabels[value as Category] ?? value;
  if (facet === "country") {
    try {
      return regionNames?.of(value) ?? value;
    } catch {
      return value;
    }
  }
  return value;
}

interface FacetRailProps {
  orgSlug: string;
  filters: ResolvedFilters;
  /** Applies a new `q`. */
  onQuery: (q: string) => void;
  onPivot: (key: PivotKey, value: string, mode: PivotMode) => void;
}

/**
 * Where the current filter's entries come from: the most frequent actors, types, categories,
 * countries and targets with their counts (from the API's facet endpoint, for exactly the filter
 * on screen). Clicking a value narrows the log to it (again: takes it back out); "Exclude" drops it.
 */
/** Below this width the rail sits above the table, folded until asked for. Kept with styles.css. */
const narrowQuery = "(max-width: 1100px)";

export function FacetRail({ orgSlug, filters, onQuery, onPivot }: FacetRailProps) {
  const narrow = useMediaQuery(narrowQuery);
  const [toggled, setToggled] = useState<boolean | null>(null);
  const open = toggled ?? !narrow;
  const bodyId = useId();
  // Counted once the first screen is painted (after-first-paint.ts); until then, skeletons.
  const painted = useAfterFirstPaint();
  const facets = useQuery({ ...facetsOptions(orgSlug, filters), enabled: open && painted });
  const data = facets.data;
  return (
    <aside
      className={`facet-rail${open ? "" : " is-folded"}`}
      aria-label="Facets"
      aria-busy={facets.isFetching ? "true" : "false"}
    >
      <h2 className="facet-rail-title">
        <button
          type="button"
          className="facet-rail-toggle"
          aria-expanded={open}
          aria-controls={bodyId}
          onClick={() => setToggled(!open)}
        >
          Narrow down
        </button>
      </h2>
      {open ? (
        <div id={bodyId} className="facet-rail-body">
          {facets.isError && !data ? (
            <p className="muted facet-note" role="alert">
              Facets unavailable: {errorMessage(facets.error)}
            </p>
          ) : null}
          {data && !data.complete ? (
            <p className="muted facet-note">
              Counted over the newest {countFormat.format(data.counted)} matching entries.
            </p>
          ) : null}
          {facetKeys.map((facet) => (
            <FacetSection
              key={facet}
              facet={facet}
              data={data}
              q={filters.q}
              onQuery={onQuery}
              onPivot={onPivot}
            />
          ))}
        </div>
      ) : null}
    </aside>
  );
}

function FacetSection({
  facet,
  data,
  q,
  onQuery,
  onPivot,
}: {
  facet: FacetKey;
  data: AuditFacets | undefined;
  q: string;
  onQuery: (q: string) => void;
  onPivot: FacetRailProps["onPivot"];
}) {
  const key = facetQueryKeys[facet];
  const values = data?.facets[facet] ?? [];
  const max = values[0]?.count ?? 1;
  const more = (data?.distinct[facet] ?? 0) - values.length;
  const headingId = `facet-${facet}`;
  return (
    <section className="facet" aria-labelledby={headingId}>
      <h3 id={headingId} className="facet-title">
        {facetTitles[facet]}
      </h3>
      {data && values.length === 0 ? <p className="muted facet-empty">None</p> : null}
      {!data ? <span className="skeleton skeleton-text" /> : null}
      <ul className="facet-values">
        {values.map(({ value, label, count }) => {
          const selected = isSelected(q, key, value);
          const shown = facetValueLabel(facet, value, label);
          const title = facet === "type" ? getEventSummary(value)?.title : undefined;
          return (
            <li key={value} className="facet-value">
              <button
                type="button"
                className={`facet-pick${selected ? " is-selected" : ""}`}
                aria-pressed={selected}
                title={title ?? (shown !== value ? value : undefined)}
                onClick={() =>
                  selected ? onQuery(removeValue(q, key, value)) : onPivot(key, value, "only")
                }
              >
                <span
                  className="facet-bar"
                  style={{ width: `${Math.max(4, (count / max) * 100)}%` }}
                  aria-hidden="true"
                />
                <span className="facet-label">{shown}</span>
                <span className="facet-count">{countFormat.format(count)}</span>
              </button>
              <button
                type="button"
                className="icon-button facet-exclude"
                aria-label={`Exclude ${key} ${shown}`}
                title={`Exclude ${shown}`}
                onClick={() => onPivot(key, value, "exclude")}
              >
                −
              </button>
            </li>
          );
        })}
      </ul>
      {more > 0 ? <p className="muted facet-more">and {countFormat.format(more)} more</p> : null}
    </section>
  );
}
