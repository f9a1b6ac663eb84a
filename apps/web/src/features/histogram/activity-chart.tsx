import { categories, categoryLabels } from "@auditlog/events";
import { keepPreviousData, useQuery } from "@tanstack/react-query";
import {
  type KeyboardEvent,
  type PointerEvent,
  type ReactNode,
  useLayoutEffect,
  useMemo,
  useRef,
  useState,
} from "react";
import { errorMessage } from "../../api/client.ts";
import { useAfterFirstPaint } from "../../lib/after-first-paint.ts";
import { formatBucket, formatShort, formatTick, zoneLabel } from "../../lib/format-time.ts";
import { useTimeZone } from "../../lib/time-zone.ts";
import { histogramOptions } from "../audit-log/audit-log-queries.ts";
import type { ResolvedFilters } from "../audit-log/filters.ts";
import { layoutChart, tickIndices, zoomOutRange } from "./chart-layout.ts";

interface ActivityChartProps {
  orgSlug: string;
  filters: ResolvedFilters;
  /** Bars were chosen (clicked, dragged across, or Enter): narrow the view to their span. */
  onSelectRange: (from: string, to: string) => void;
}

const plotHeight = 96;
const axisWidth = 40;
const axisHeight = 20;
const number = new Intl.NumberFormat();

/**
 * Entries over time for the filter on screen, stacked by category, with the filter's total.
 * The range is the filter's (All time: from the oldest matching entry); the bucket size fits it
 * (minutes under a few hours … months) and buckets are aligned in the declared zone. Hover or
 * use the arrow keys to read a bar; click it, drag across bars or press Enter to narrow the time
 * range; "Zoom out" doubles it.
 */
export function ActivityChart(props: ActivityChartProps) {
  // Mounted once the first screen is painted (after-first-paint.ts): its request, and the
  // measuring of its width (a second render), come after the log's rows. Until then, the card
  // as it looks while its data loads, the same size.
  const painted = useAfterFirstPaint();
  return painted ? <LiveActivityChart {...props} /> : <ChartLoading />;
}

/** The chart card while its data loads: what `LiveActivityChart` shows then, element for element. */
function ChartLoading() {
  return (
    <section className="chart-card" aria-labelledby="chart-title" aria-busy={true}>
      <div className="chart-head">
        <h2 id="chart-title" className="chart-title">
          Activity
        </h2>
        <ul className="legend" aria-label="Categories" />
      </div>
      <div className="chart-body">
        <div className="chart-skeleton skeleton" role="img" aria-label="Loading the chart" />
      </div>
    </section>
  );
}

function LiveActivityChart({ orgSlug, filters, onSelectRange }: ActivityChartProps) {
  const { timeZone } = useTimeZone();
  const query = useQuery({
    ...histogramOptions(orgSlug, filters, timeZone),
    placeholderData: keepPreviousData,
  });
  const wrapRef = useRef<HTMLDivElement>(null);
  const [width, setWidth] = useState(720);
  const [hover, setHover] = useState<number | null>(null);
  const [drag, setDrag] = useState<{ anchor: number; current: number } | null>(null);

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
  const selection = drag
    ? { low: Math.min(drag.anchor, drag.current), high: Math.max(drag.anchor, drag.current) }
    : null;
  const selectedLow = selection ? bars[selection.low] : undefined;
  const selectedHigh = selection ? bars[selection.high] : undefined;
  const zoomOut = data && filters.from ? zoomOutRange(filters, data.to, Date.now()) : null;

  const barAt = (clientX: number, element: HTMLElement) => {
    const x = clientX - element.getBoundingClientRect().left - axisWidth;
    const slot = plotWidth / Math.max(1, bars.length);
    return Math.max(0, Math.min(bars.length - 1, Math.floor(x / slot)));
  };
  const onPointerDown = (event: PointerEvent<HTMLDivElement>) => {
    if (event.button !== 0 || bars.length === 0) return;
    const index = barAt(event.clientX, event.currentTarget);
    event.currentTarget.setPointerCapture?.(event.pointerId);
    setDrag({ anchor: index, current: index });
  };
  const onPointerMove = (event: PointerEvent<HTMLDivElement>) => {
    if (bars.length === 0) return;
    const index = barAt(event.clientX, event.currentTarget);
    setHover(index);
    if (drag && drag.current !== index) setDrag({ ...drag, current: index });
  };
  const onPointerUp = () => {
    if (!drag) return;
    setDrag(null);
    const low = bars[Math.min(drag.anchor, drag.current)];
    const high = bars[Math.max(drag.anchor, drag.current)];
    if (low && high) onSelectRange(low.start, high.end);
  };

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
      const next = Math.max(0, Math.min(bars.length - 1, target));
      setHover(next);
      // Shift + arrows: the keyboard's drag, from the bar where it started.
      if (event.shiftKey) setDrag({ anchor: drag?.anchor ?? current, current: next });
      else setDrag(null);
    } else if (event.key === "Escape" && drag) {
      event.preventDefault();
      setDrag(null);
    } else if ((event.key === "Enter" || event.key === " ") && (drag || hovered)) {
      event.preventDefault();
      const low = drag ? bars[Math.min(drag.anchor, drag.current)] : hovered;
      const high = drag ? bars[Math.max(drag.anchor, drag.current)] : hovered;
      setDrag(null);
      if (low && high) onSelectRange(low.start, high.end);
    }
  };

  const now = Date.now();
  const rangeText = data
    ? `${formatShort(data.from, now, timeZone)} – ${formatShort(data.to, now, timeZone)}`
    : "";
  const summary = data
    ? `${number.format(data.total)} entries from ${rangeText}, per ${data.interval} (${zoneLabel(timeZone)})`
    : "";

  return (
    <section
      className={`chart-card${query.isPlaceholderData ? " is-stale" : ""}`}
      aria-labelledby="chart-title"
      aria-busy={query.isFetching}
    >
      <div className="chart-head">
        <h2 id="chart-title" className="chart-title">
          Activity
          {data ? (
            <span className="chart-subtitle">
              <strong className="chart-total" data-total={data.total}>
                {number.format(data.total)} {data.total === 1 ? "entry" : "entries"}
              </strong>{" "}
              · {rangeText} · per {data.interval} ({zoneLabel(timeZone)})
            </span>
          ) : null}
        </h2>
        {zoomOut ? (
          <button
            type="button"
            className="button button-small chart-zoom-out"
            title="Show twice the time range"
            onClick={() => onSelectRange(zoomOut.from, zoomOut.to)}
          >
            Zoom out
          </button>
        ) : null}
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
          <div className="chart-skeleton skeleton" role="img" aria-label="Loading the chart" />
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
            aria-label={`Activity chart: ${summary}. Arrow keys move between bars, Shift with arrow keys chooses several; Enter narrows the time range to them. Drag across bars to choose a range with the mouse.`}
            onKeyDown={onKeyDown}
            onBlur={() => {
              setHover(null);
              setDrag(null);
            }}
            onMouseLeave={() => setHover(null)}
            onPointerDown={onPointerDown}
            onPointerMove={onPointerMove}
            onPointerUp={onPointerUp}
            onPointerCancel={() => setDrag(null)}
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
                      {formatTick(bar.start, data?.interval ?? "day", timeZone)}
                    </text>
                  );
                })}
              </g>
              <g transform={`translate(${axisWidth}, 0)`}>
                {bars.map((bar) => (
                  <g
                    key={bar.start}
                    className={`chart-bar${hover === bar.index ? " is-hover" : ""}`}
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
                {selectedLow && selectedHigh ? (
                  <rect
                    className="chart-selection"
                    x={selectedLow.x}
                    y={0}
                    width={selectedHigh.x + selectedHigh.width - selectedLow.x}
                    height={plotHeight}
                  />
                ) : null}
              </g>
            </svg>
            {selectedLow && selectedHigh && selectedLow !== selectedHigh && data ? (
              <ChartTooltip
                center={axisWidth + (selectedLow.x + selectedHigh.x + selectedHigh.width) / 2}
                containerWidth={width}
              >
                <strong>
                  {formatBucket(selectedLow.start, data.interval, timeZone)} –{" "}
                  {formatBucket(selectedHigh.start, data.interval, timeZone)}
                </strong>
                <span>
                  {number.format(
                    bars
                      .slice(selectedLow.index, selectedHigh.index + 1)
                      .reduce((sum, bar) => sum + bar.total, 0),
                  )}{" "}
                  entries
                </span>
                <em>Release to zoom in</em>
              </ChartTooltip>
            ) : hovered && data ? (
              <ChartTooltip
                center={axisWidth + hovered.x + hovered.width / 2}
                containerWidth={width}
              >
                <strong>{formatBucket(hovered.start, data.interval, timeZone)}</strong>
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
                <em>Click, drag or press Enter to zoom in</em>
              </ChartTooltip>
            ) : null}
          </div>
        )}
      </div>
    </section>
  );
}

/**
 * A bar's tooltip, centred over `center` but kept inside the chart: its own width is read before
 * paint (it varies with the categories listed and the locale's dates), so a bar at either edge
 * never pushes it past the card, which clipped it at the right edge.
 */
function ChartTooltip({
  center,
  containerWidth,
  children,
}: {
  center: number;
  containerWidth: number;
  children: ReactNode;
}) {
  const ref = useRef<HTMLDivElement>(null);
  useLayoutEffect(() => {
    const tooltip = ref.current;
    if (!tooltip) return;
    const half = tooltip.offsetWidth / 2;
    const left = Math.min(Math.max(center, half), Math.max(half, containerWidth - half));
    tooltip.style.left = `${left}px`;
  });
  return (
    <div ref={ref} className="chart-tooltip" role="status" style={{ left: center }}>
      {children}
    </div>
  );
}
