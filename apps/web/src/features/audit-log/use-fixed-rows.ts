import { type RefObject, useCallback, useLayoutEffect, useState } from "react";

/** Height assumed before the scroll container is measured (and where it cannot be, in tests). */
const fallbackViewport = 720;

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
  const [viewport, setViewport] = useState({ top: 0, height: 0 });

  useLayoutEffect(() => {
    const element = scrollRef.current;
    if (!element) return;
    if (scrollWithPage) {
      const measurePage = () => {
        const top = Math.max(0, Math.round(-element.getBoundingClientRect().top));
        const height = window.innerHeight;
        setViewport((previous) =>
          previous.top === top && previous.height === height ? previous : { top, height },
        );
      };
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
    const measure = () =>
      setViewport((previous) =>
        previous.top === element.scrollTop && previous.height === element.clientHeight
          ? previous
          : { top: element.scrollTop, height: element.clientHeight },
      );
    measure();
    element.addEventListener("scroll", measure, { passive: true });
    const observer = typeof ResizeObserver === "function" ? new ResizeObserver(measure) : null;
    observer?.observe(element);
    return () => {
      element.removeEventListener("scroll", measure);
      observer?.disconnect();
    };
  }, [scrollRef, scrollWithPage]);

  const height = viewport.height || fallbackViewport;
  const start = Math.max(0, Math.floor(viewport.top / rowHeight) - overscan);
  const end = Math.min(count, Math.ceil((viewport.top + height) / rowHeight) + overscan);

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
