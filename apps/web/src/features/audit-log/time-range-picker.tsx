import { useState } from "react";
import { Popover } from "../../components/popover.tsx";
import {
  formatShort,
  fromZonedInputValue,
  toZonedInputValue,
  zoneLabel,
} from "../../lib/format-time.ts";
import { localTimeZone, useTimeZone } from "../../lib/time-zone.ts";
import { type LogFilters, type RangePreset, rangeLabels } from "./filters.ts";

interface TimeRangePickerProps {
  filters: LogFilters;
  onChange: (range: Pick<LogFilters, "range" | "from" | "to">) => void;
  now: number;
}

const presets: RangePreset[] = ["24h", "7d", "30d", "all"];

/**
 * Presets (24 hours, 7 days, 30 days, all time), a custom from–to range in the declared zone,
 * and the switch between local time and UTC.
 */
export function TimeRangePicker({ filters, onChange, now }: TimeRangePickerProps) {
  const { timeZone } = useTimeZone();
  const customLabel =
    filters.range === "custom"
      ? `${filters.from ? formatShort(filters.from, now, timeZone) : "…"} – ${
          filters.to ? formatShort(filters.to, now, timeZone) : "now"
        }`
      : "Custom";
  return (
    <>
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
              timeZone={timeZone}
              onApply={(from, to) => {
                onChange({ range: "custom", from, to });
                close();
              }}
            />
          )}
        </Popover>
      </fieldset>
      <TimeZoneSwitch />
    </>
  );
}

/** Local time or UTC for every time on the page; remembered in this browser. */
function TimeZoneSwitch() {
  const { mode, setMode } = useTimeZone();
  const local = localTimeZone();
  return (
    <fieldset className="segmented time-zone-switch">
      <legend className="visually-hidden">Time zone</legend>
      <button
        type="button"
        className="segment"
        aria-pressed={mode === "local"}
        title={`Show times in your time zone (${local})`}
        onClick={() => setMode("local")}
      >
        Local
      </button>
      <button
        type="button"
        className="segment"
        aria-pressed={mode === "utc"}
        title="Show times in UTC"
        onClick={() => setMode("utc")}
      >
        UTC
      </button>
    </fieldset>
  );
}

function CustomRangeForm({
  filters,
  timeZone,
  onApply,
}: {
  filters: LogFilters;
  timeZone: string;
  onApply: (from: string | undefined, to: string | undefined) => void;
}) {
  const [from, setFrom] = useState(filters.from ? toZonedInputValue(filters.from, timeZone) : "");
  const [to, setTo] = useState(filters.to ? toZonedInputValue(filters.to, timeZone) : "");
  const fromIso = fromZonedInputValue(from, timeZone);
  const toIso = fromZonedInputValue(to, timeZone);
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
        From ({zoneLabel(timeZone)})
        <input
          data-autofocus
          className="input"
          type="datetime-local"
          value={from}
          onChange={(event) => setFrom(event.target.value)}
        />
      </label>
      <label>
        To ({zoneLabel(timeZone)})
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
