import { categories, categoryLabels, type HistogramInterval } from "@auditlog/events";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import { type KeyboardEvent, useLayoutEffect, useMemo, useRef, useState } from "react";
import { errorMessage } from "../../api/client.ts";
import { formatBucket } from "../../lib/format-time.ts";
import { histogramOptions } from "../audit-log/audit-log-queries.ts";
import type { ResolvedFilters } from "../audit-log/filters.ts";
import { layoutChart, tickIndices } from "./chart-layout.ts";

interface ActivityChartProps {
  orgSlug: string;
  filters: ResolvedFilters;
  interval: HistogramInterval;
  /** A bar was chosen: narrow the view to its time span. */
  onSelectRange: (from: string, to: string) => void;
}

const plotHeight = 96;
const axisWidth = 40;
const axisHeight = 20;
const number = new Intl.NumberFormat();

/**
 * Entries over time for the filter on screen, stacked by category. Hover or use the arrow keys
 * to read a bar; click it or press Enter to narrow the time range to it.
 */
export function ActivityChart({ orgSlug, filters, interval, onSelectRange }: ActivityChartProps) {
  const query = useQuery({
    ...histogramOptions(orgSlug, filters, interval),
    placeholderData: keepPreviousData,
  });
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(720);
  const [hover, setHover] = useState<number | null>(null);

  useLayoutEffect(() => {
    const element = wrapRef.current;
    if (!element) return;
    const measure = () => {
      if (element.clientWidth > 0) setWidth(element.clientWidth);
    };
    measure();
    if (typeof ResizeObserver !== "function") return;
    const observer = new ResizeObserver(measure);
    observer.observe(element);
    return () => observer.disconnect();
  }, []);

  const plotWidth = Math.max(100, width - axisWidth);
  const layout = useMemo(
    () => (query.data ? layoutChart(query.data, plotWidth, plotHeight) : null),
    [query.data, plotWidth],
  );
  const data = query.data;
  const bars = layout?.bars ?? [];
  const hovered = hover !== null ? bars[hover] : undefined;
  const ticks = tickIndices(bars.length, width < 480 ? 3 : 6);

  const onKeyDown = (event: KeyboardEvent<HTMLDivElement>) => {
    if (bars.length === 0) return;
    const current = hover ?? bars.length - 1;
    const moves: Record<string, number> = {
      ArrowLeft: current - 1,
      ArrowRight: current + 1,
      Home: 0,
      End: bars.length - 1,
    };
    const target = moves[event.key];
    if (target !== undefined) {
      event.preventDefault();
      setHover(Math.max(0, Math.min(bars.length - 1, target)));
    } else if ((event.key === "Enter" || event.key === " ") && hovered) {
      event.preventDefault();
      onSelectRange(hovered.start, hovered.end);
    }
  };

  const summary = data
    ? `${number.format(layout?.total ?? 0)} entries from ${formatBucket(data.from, data.interval)} to ${formatBucket(data.to, data.interval)}, per ${data.interval}`
    : "";

  return (
    <section className="chart-card" aria-labelledby="chart-title">
      <div className="chart-head">
        <h2 id="chart-title" className="chart-title">
          Activity
          {data ? (
            <span className="chart-subtitle">
              {number.format(layout?.total ?? 0)} entries · per {data.interval}
              {data.interval === "day" ? " (UTC days)" : ""}
            </span>
          ) : null}
        </h2>
        <ul className="legend" aria-label="Categories">
          {categories
            .filter((category) => (layout?.totals[category] ?? 0) > 0)
            .map((category) => (
              <li key={category}>
                <span className={`dot dot-${category}`} aria-hidden="true" />
                {categoryLabels[category]}{" "}
                <span className="muted">{number.format(layout?.totals[category] ?? 0)}</span>
              </li>
            ))}
        </ul>
      </div>
      <div className="chart-body" ref={wrapRef}>
        {query.isPending ? (
          <div className="chart-skeleton skeleton" aria-label="Loading the chart" />
        ) : query.isError ? (
          <p className="chart-message" role="alert">
            Could not load the chart: {errorMessage(query.error)}
          </p>
        ) : layout && layout.total === 0 ? (
          <p className="chart-message">No activity in this range.</p>
        ) : (
          <div
            className="chart-plot"
            role="group"
            tabIndex={0}
            aria-label={`Activity chart: ${summary}. Arrow keys move between bars; Enter narrows the time range to the chosen bar.`}
            onKeyDown={onKeyDown}
            onBlur={() => setHover(null)}
            onMouseLeave={() => setHover(null)}
          >
            <svg
              width={width}
              height={plotHeight + axisHeight}
              viewBox={`0 0 ${width} ${plotHeight + axisHeight}`}
              aria-hidden="true"
            >
              <g className="chart-grid">
                <line x1={axisWidth} x2={width} y1={0.5} y2={0.5} />
                <line x1={axisWidth} x2={width} y1={plotHeight / 2} y2={plotHeight / 2} />
                <line x1={axisWidth} x2={width} y1={plotHeight - 0.5} y2={plotHeight - 0.5} />
              </g>
              <g className="chart-axis">
                <text x={axisWidth - 6} y={10} textAnchor="end">
                  {number.format(layout?.maxTotal ?? 0)}
                </text>
                <text x={axisWidth - 6} y={plotHeight / 2 + 4} textAnchor="end">
                  {number.format((layout?.maxTotal ?? 0) / 2)}
                </text>
                <text x={axisWidth - 6} y={plotHeight} textAnchor="end">
                  0
                </text>
                {ticks.map((index) => {
                  const bar = bars[index];
                  if (!bar) return null;
                  const x = axisWidth + bar.x + bar.width / 2;
                  const anchor =
                    index === 0 ? "start" : index === bars.length - 1 ? "end" : "middle";
                  return (
                    <text
                      key={index}
                      x={anchor === "start" ? axisWidth + bar.x : anchor === "end" ? width : x}
                      y={plotHeight + 15}
                      textAnchor={anchor}
                    >
                      {formatBucket(bar.start, data?.interval ?? interval).replace(" (UTC)", "")}
                    </text>
                  );
                })}
              </g>
              <g transform={`translate(${axisWidth}, 0)`}>
                {bars.map((bar) => (
                  <g
                    key={bar.start}
                    className={`chart-bar${hover === bar.index ? " is-hover" : ""}`}
                    onMouseEnter={() => setHover(bar.index)}
                    onClick={() => onSelectRange(bar.start, bar.end)}
                  >
                    <rect
                      className="chart-hit"
                      x={bar.x}
                      y={0}
                      width={bar.width}
                      height={plotHeight}
                    />
                    {bar.segments.map((segment) => (
                      <rect
                        key={segment.category}
                        className={`fill-${segment.category}`}
                        x={bar.x}
                        y={segment.y}
                        width={bar.width}
                        height={Math.max(segment.height, 0.5)}
                      />
                    ))}
                  </g>
                ))}
              </g>
            </svg>
            {hovered && data ? (
              <div
                className="chart-tooltip"
                role="status"
                style={{
                  left: Math.min(
                    Math.max(axisWidth + hovered.x + hovered.width / 2, 90),
                    width - 90,
                  ),
                }}
              >
                <strong>{formatBucket(hovered.start, data.interval)}</strong>
                <span>
                  {number.format(hovered.total)} {hovered.total === 1 ? "entry" : "entries"}
                </span>
                {hovered.segments
                  .slice()
                  .reverse()
                  .map((segment) => (
                    <span key={segment.category}>
                      <span className={`dot dot-${segment.category}`} aria-hidden="true" />
                      {categoryLabels[segment.category]}: {number.format(segment.count)}
                    </span>
                  ))}
                <em>Click or press Enter to zoom in</em>
              </div>
            ) : null}
          </div>
        )}
      </div>
    </section>
  );
}
