import { useState } from "react";
import { Popover } from "../../components/popover.tsx";
import { formatLocalShort, fromLocalInputValue, toLocalInputValue } from "../../lib/format-time.ts";
import { type LogFilters, type RangePreset, rangeLabels } from "./filters.ts";

interface TimeRangePickerProps {
  filters: LogFilters;
  onChange: (range: Pick<LogFilters, "range" | "from" | "to">) => void;
  now: number;
}

const presets: RangePreset[] = ["24h", "7d", "30d", "all"];

/** Presets (24 hours, 7 days, 30 days, all time) and a custom from–to range. */
export function TimeRangePicker({ filters, onChange, now }: TimeRangePickerProps) {
  const customLabel =
    filters.range === "custom"
      ? `${filters.from ? formatLocalShort(filters.from, now) : "…"} – ${
          filters.to ? formatLocalShort(filters.to, now) : "now"
        }`
      : "Custom";
  return (
    <fieldset className="segmented">
      <legend className="visually-hidden">Time range</legend>
      {presets.map((preset) => (
        <button
          key={preset}
          type="button"
          className="segment"
          aria-pressed={filters.range === preset}
          onClick={() => onChange({ range: preset })}
        >
          {rangeLabels[preset]}
        </button>
      ))}
      <Popover
        label={customLabel}
        ariaLabel={`Custom time range: ${customLabel}`}
        buttonClassName={`segment${filters.range === "custom" ? " segment-on" : ""}`}
        panelLabel="Custom time range"
        align="end"
      >
        {(close) => (
          <CustomRangeForm
            filters={filters}
            onApply={(from, to) => {
              onChange({ range: "custom", from, to });
              close();
            }}
          />
        )}
      </Popover>
    </fieldset>
  );
}

function CustomRangeForm({
  filters,
  onApply,
}: {
  filters: LogFilters;
  onApply: (from: string | undefined, to: string | undefined) => void;
}) {
  const [from, setFrom] = useState(filters.from ? toLocalInputValue(filters.from) : "");
  const [to, setTo] = useState(filters.to ? toLocalInputValue(filters.to) : "");
  const fromIso = fromLocalInputValue(from);
  const toIso = fromLocalInputValue(to);
  const invalid = fromIso && toIso && fromIso >= toIso;
  return (
    <form
      className="custom-range"
      onSubmit={(event) => {
        event.preventDefault();
        if (!invalid) onApply(fromIso, toIso);
      }}
    >
      <label>
        From (local time)
        <input
          data-autofocus
          className="input"
          type="datetime-local"
          value={from}
          onChange={(event) => setFrom(event.target.value)}
        />
      </label>
      <label>
        To (local time)
        <input
          className="input"
          type="datetime-local"
          value={to}
          onChange={(event) => setTo(event.target.value)}
        />
      </label>
      {invalid ? (
        <p className="field-error" role="alert">
          The range must end after it starts.
        </p>
      ) : null}
      <button type="submit" className="button button-primary" disabled={!!invalid}>
        Apply range
      </button>
    </form>
  );
}
