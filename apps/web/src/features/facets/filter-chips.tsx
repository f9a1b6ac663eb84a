import { queryChips } from "./query-terms.ts";

/**
 * The active filters of `q` as removable chips, read with the shared parser (nothing when `q`
 * does not parse: the query bar shows that error). Removing one applies `q` without it.
 */
export function FilterChips({ q, onQuery }: { q: string; onQuery: (q: string) => void }) {
  const chips = queryChips(q);
  if (!chips || chips.length === 0) return null;
  return (
    <ul className="filter-chips" aria-label="Active filters">
      {chips.map((chip) => (
        <li key={chip.id} className={`filter-chip${chip.negated ? " is-negated" : ""}`}>
          <span className="filter-chip-text">{chip.text}</span>
          <button
            type="button"
            className="filter-chip-remove"
            aria-label={`Remove filter ${chip.text}`}
            onClick={() => onQuery(chip.without)}
          >
            ×
          </button>
        </li>
      ))}
    </ul>
  );
}
