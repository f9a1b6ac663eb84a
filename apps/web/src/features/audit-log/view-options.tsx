import { usePreference } from "../../lib/use-preference.ts";

/** The id of the chart's container, which the chart button shows and hides. */
export const chartRegionId = "activity-chart-region";

/**
 * Two display switches beside the filters, remembered in this browser: compact rows (one line
 * per entry) and the activity chart (shown or collapsed).
 */
export function ViewOptions() {
  const [density, setDensity] = usePreference("density");
  const [chart, setChart] = usePreference("chart");
  return (
    <div className="view-options">
      <button
        type="button"
        className={`button${density === "compact" ? " button-active" : ""}`}
        aria-pressed={density === "compact"}
        onClick={() => setDensity(density === "compact" ? "comfortable" : "compact")}
      >
        <DensityIcon />
        Compact
      </button>
      <button
        type="button"
        className="button"
        aria-expanded={chart === "shown"}
        aria-controls={chart === "shown" ? chartRegionId : undefined}
        onClick={() => setChart(chart === "shown" ? "collapsed" : "shown")}
      >
        <ChartIcon />
        {chart === "shown" ? "Hide chart" : "Show chart"}
      </button>
    </div>
  );
}

function DensityIcon() {
  return (
    <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <path
        d="M4 5h12M4 8.5h12M4 12h12M4 15.5h12"
        stroke="currentColor"
        strokeWidth="1.6"
        strokeLinecap="round"
      />
    </svg>
  );
}

function ChartIcon() {
  return (
    <svg viewBox="0 0 20 20" width="16" height="16" aria-hidden="true">
      <path
        d="M4 16V9M8 16V5M12 16v-5M16 16V7"
        stroke="currentColor"
        strokeWidth="2"
        strokeLinecap="round"
      />
    </svg>
  );
}
