import { categories, categoryLabels, eventSummaries } from "@auditlog/events";
import { useMemo, useState } from "react";
import { Popover } from "../../components/popover.tsx";
import { compressTypes } from "../facets/query-terms.ts";

interface TypePickerProps {
  /** The catalog types the query's `type:` terms select (wildcards expanded). */
  selected: string[];
  /** The new selection; the page writes it into `q` as `type:` terms. */
  onChange: (types: string[]) => void;
}

const byCategory = categories.map((category) => ({
  category,
  definitions: eventSummaries.filter((definition) => definition.category === category),
}));

/** Event types from the shared catalog, grouped by category, with a search box. */
export function TypePicker({ selected, onChange }: TypePickerProps) {
  // What the query holds: `repo.*` for a whole scope rather than "17 types".
  const terms = compressTypes(selected);
  const label =
    terms.length === 0 ? "All types" : terms.length === 1 ? terms[0] : `${selected.length} types`;
  return (
    <Popover
      label={
        <>
          <span className="button-caption">Type</span> {label}
          <Chevron />
        </>
      }
      // No aria-label: the name is the visible "Type <choice>", as speech input expects it to be.
      buttonClassName={`button${selected.length > 0 ? " button-active" : ""}`}
      panelLabel="Choose event types"
    >
      {() => <TypePickerPanel selected={selected} onChange={onChange} />}
    </Popover>
  );
}

function TypePickerPanel({ selected, onChange }: TypePickerProps) {
  const [search, setSearch] = useState("");
  const chosen = useMemo(() => new Set(selected), [selected]);
  const needle = search.trim().toLowerCase();
  const groups = byCategory
    .map(({ category, definitions }) => ({
      category,
      definitions: definitions.filter(
        (definition) =>
          !needle ||
          definition.type.toLowerCase().includes(needle) ||
          definition.title.toLowerCase().includes(needle),
      ),
    }))
    .filter((group) => group.definitions.length > 0);

  const toggle = (type: string, on: boolean) => {
    const next = new Set(chosen);
    if (on) next.add(type);
    else next.delete(type);
    onChange([...next].sort());
  };
  const setMany = (types: string[], on: boolean) => {
    const next = new Set(chosen);
    for (const type of types) {
      if (on) next.add(type);
      else next.delete(type);
    }
    onChange([...next].sort());
  };

  return (
    <div className="type-picker">
      <div className="type-picker-head">
        <label className="visually-hidden" htmlFor="type-picker-search">
          Search event types
        </label>
        <input
          id="type-picker-search"
          data-autofocus
          type="search"
          className="input"
          placeholder="Search types…"
          value={search}
          onChange={(event) => setSearch(event.target.value)}
        />
        <button
          type="button"
          className="button button-small"
          disabled={selected.length === 0}
          onClick={() => onChange([])}
        >
          Clear
        </button>
      </div>
      <div className="type-picker-groups">
        {groups.length === 0 ? <p className="muted">No event type matches “{search}”.</p> : null}
        {groups.map(({ category, definitions }) => {
          const types = definitions.map((definition) => definition.type);
          const all = types.every((type) => chosen.has(type));
          const some = !all && types.some((type) => chosen.has(type));
          return (
            <fieldset key={category} className="type-picker-group">
              <legend>
                {needle ? (
                  // While searching, only some of the category's types are listed: no "all" box.
                  <span className="type-picker-category">
                    <span className={`dot dot-${category}`} aria-hidden="true" />
                    {categoryLabels[category]}
                  </span>
                ) : (
                  <label className="type-picker-category">
                    <input
                      type="checkbox"
                      checked={all}
                      aria-label={`All ${categoryLabels[category]} types`}
                      ref={(element) => {
                        if (element) element.indeterminate = some;
                      }}
                      onChange={(event) => setMany(types, event.target.checked)}
                    />
                    <span className={`dot dot-${category}`} aria-hidden="true" />
                    {categoryLabels[category]}
                  </label>
                )}
              </legend>
              {definitions.map((definition) => (
                <label key={definition.type} className="type-picker-option">
                  <input
                    type="checkbox"
                    checked={chosen.has(definition.type)}
                    onChange={(event) => toggle(definition.type, event.target.checked)}
                  />
                  <span className="type-picker-type">{definition.type}</span>
                  <span className="type-picker-title">{definition.title}</span>
                </label>
              ))}
            </fieldset>
          );
        })}
      </div>
    </div>
  );
}

export function Chevron() {
  return (
    <svg className="chevron" viewBox="0 0 20 20" width="14" height="14" aria-hidden="true">
      <path d="M5 8l5 5 5-5" fill="none" stroke="currentColor" strokeWidth="1.8" />
    </svg>
  );
}
