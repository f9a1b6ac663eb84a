import { type RefObject, useCallback, useLayoutEffect, useRef, useState } from "react";

/** Height assumed before the scroll container is measured (and where it cannot be, in tests). */
const fallbackViewport = 720;

interface Viewport {
  /** Scroll offset of the rows' container, in px. */
  top: number;
  /** Its visible height in px (0 when it cannot be measured: `fallbackViewport`). */
  height: number;
  /** Rows rendered beyond the visible ones on either side. */
  overscan: number;
}

/** The rows a viewport shows, `overscan` more on either side (not clamped to the row count). */
function rowRange(viewport: Viewport, rowHeight: number): { start: number; end: number } {
  const height = viewport.height || fallbackViewport;
  return {
    start: Math.max(0, Math.floor(viewport.top / rowHeight) - viewport.overscan),
    end: Math.ceil((viewport.top + height) / rowHeight) + viewport.overscan,
  };
}

/**
 * Windowing for rows of one fixed height in a scrolling container: only the rows in view (plus
 * `overscan` either side) are rendered, each at `index * rowHeight`, so the list costs the same
 * with ten rows or ten thousand and never shifts while rows load.
 *
 * With `scrollWithPage` the container does not scroll itself: the page does (on a phone, one
 * scroll for the whole page instead of a scrolling box inside a scrolling page), and the rows in
 * view are those of the container's part that is inside the window.
 */
export function useFixedRows(options: {
  count: number;
  rowHeight: number;
  scrollRef: RefObject<HTMLElement | null>;
  overscan?: number;
  scrollWithPage?: boolean;
}) {
  const { count, rowHeight, scrollRef, overscan = 8, scrollWithPage = false } = options;
  // Before the first layout, a guess that lays nothing out: half the window's height (the table
  // sits below the header, the toolbar and the chart: 6 rows of 56 px show at 1440×900, the guess
  // renders 9), and no overscan, so the first render builds little more than what shows. Where
  // more show, the measuring below renders them before the first paint.
  const [viewport, setViewport] = useState<Viewport>(() => ({
    top: 0,
    height: typeof window === "undefined" ? 0 : Math.round(window.innerHeight / 2),
    overscan: 0,
  }));
  const rendered = rowRange(viewport, rowHeight);
  // What the measuring below compares against, without being one of the effect's inputs.
  const current = useRef({ rendered, rowHeight, overscan });
  current.current = { rendered, rowHeight, overscan };

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    // A new viewport is rendered only when the rows in view are not all rendered already (or far
    // more are than need be): the measuring on mount then costs no second render before the first
    // paint, and scrolling renders once per `overscan` rows rather than on every scroll event.
    const update = (top: number, height: number) => {
      const { rendered: has, rowHeight: size, overscan: margin } = current.current;
      const needed = rowRange({ top, height, overscan: 0 }, size);
      const covered = needed.start >= has.start && needed.end <= has.end;
      const wasteful = has.end - has.start > needed.end - needed.start + 4 * margin;
      if (covered && !wasteful) return;
      setViewport({ top, height, overscan: margin });
    };
    if (scrollWithPage) {
      const measurePage = () =>
        update(Math.max(0, Math.round(-element.getBoundingClientRect().top)), window.innerHeight);
      measurePage();
      window.addEventListener("scroll", measurePage, { passive: true });
      window.addEventListener("resize", measurePage);
      // What is above the table (the chart, a notice) can change height without a scroll.
      const pageObserver =
        typeof ResizeObserver === "function" ? new ResizeObserver(measurePage) : null;
      pageObserver?.observe(document.body);
      return () => {
        window.removeEventListener("scroll", measurePage);
        window.removeEventListener("resize", measurePage);
        pageObserver?.disconnect();
      };
    }
    const measure = () => update(element.scrollTop, element.clientHeight);
    measure();
    element.addEventListener("scroll", measure, { passive: true });
    const observer = typeof ResizeObserver === "function" ? new ResizeObserver(measure) : null;
    observer?.observe(element);
    return () => {
      element.removeEventListener("scroll", measure);
      observer?.disconnect();
    };
  }, [scrollRef, scrollWithPage]);

  const start = Math.min(rendered.start, count);
  const end = Math.min(count, rendered.end);

  /** Scrolls just enough for row `index` to be fully visible. */
  const scrollToIndex = useCallback(
    (index: number) => {
      const element = scrollRef.current;
      if (!element) return;
      if (scrollWithPage) {
        const rowTop = element.getBoundingClientRect().top + index * rowHeight;
        if (rowTop < 0) window.scrollBy(0, rowTop);
        else if (rowTop + rowHeight > window.innerHeight) {
          window.scrollBy(0, rowTop + rowHeight - window.innerHeight);
        }
        return;
      }
      const top = index * rowHeight;
      const visible = element.clientHeight || fallbackViewport;
      if (top < element.scrollTop) element.scrollTop = top;
      else if (top + rowHeight > element.scrollTop + visible) {
        element.scrollTop = top + rowHeight - visible;
      }
    },
    [scrollRef, rowHeight, scrollWithPage],
  );

  return { start, end, totalHeight: count * rowHeight, scrollToIndex };
}
