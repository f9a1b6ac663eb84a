import { Popover } from "../../components/popover.tsx";
import { copyText } from "../../lib/copy-text.ts";
import { navigate } from "../../lib/router.ts";
import { filtersFromSearch, filtersToSearch } from "../audit-log/filters.ts";
import { type PivotKey, type PivotMode, pivotQuery } from "./query-terms.ts";

/**
 * Applies a pivot to the filter in the address: the page reads `q` from there, so the list,
 * chart, facets, chips and type picker all follow. Read at click time (no subscription), so the
 * hundreds of menus in the table do not re-render on every navigation.
 */
export function pivotInAddress(key: PivotKey, value: string, mode: PivotMode): void {
  const { pathname, search } = window.location;
  const filters = filtersFromSearch(search);
  navigate(
    `${pathname}${filtersToSearch({ ...filters, q: pivotQuery(filters.q, key, value, mode) })}`,
  );
}

interface PivotMenuProps {
  queryKey: PivotKey;
  value: string;
  /** How the value reads to people (a target's name for its id, a country's name). */
  label?: string;
  /** Compact trigger for table rows. */
  compact?: boolean;
  /** Open at once: in the table it replaces the plain trigger that was just clicked. */
  initiallyOpen?: boolean;
}

/** The trigger's accessible name, the same on the table's plain trigger (log-table.tsx). */
export function pivotTriggerLabel(queryKey: PivotKey, shown: string): string {
  return `Filter by ${queryKey} ${shown}`;
}

/**
 * A small menu on a value: narrow the log to it, exclude it, or copy it. Clicks and keys stay
 * inside the menu, so a row's own click (open the details) and arrow keys are not triggered.
 */
export function PivotMenu({ queryKey, value, label, compact, initiallyOpen }: PivotMenuProps) {
  const pivot = pivotInAddress;
  const shown = label ?? value;
  return (
    <span
      className={`pivot${compact ? " pivot-compact" : ""}`}
      onClick={(event) => event.stopPropagation()}
      onKeyDown={(event) => event.stopPropagation()}
    >
      <Popover
        label={<span aria-hidden="true">⋯</span>}
        ariaLabel={pivotTriggerLabel(queryKey, shown)}
        buttonClassName="icon-button pivot-trigger"
        panelLabel={`${queryKey} ${shown}`}
        align="end"
        initiallyOpen={initiallyOpen}
      >
        {(close) => (
          <div className="pivot-menu" role="group">
            <button
              type="button"
              className="pivot-action"
              data-autofocus
              onClick={() => {
                pivot(queryKey, value, "only");
                close();
              }}
            >
              Only this {queryKey}
            </button>
            <button
              type="button"
              className="pivot-action"
              onClick={() => {
                pivot(queryKey, value, "exclude");
                close();
              }}
            >
              Exclude this {queryKey}
            </button>
            <button
              type="button"
              className="pivot-action"
              onClick={async () => {
                await copyText(value);
                close();
              }}
            >
              Copy “{value}”
            </button>
          </div>
        )}
      </Popover>
    </span>
  );
}
