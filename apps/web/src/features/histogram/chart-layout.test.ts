import { describe, expect, it } from "vitest";
import { layoutChart, niceMax, tickIndices, zoomOutRange } from "./chart-layout.ts";

describe("the activity chart's layout", () => {
  it("stacks categories bottom up, scaled to a nice maximum", () => {
    const layout = layoutChart(
      {
        interval: "hour",
        from: "2026-03-01T00:00:00.000Z",
        to: "2026-03-01T02:00:00.000Z",
        timeZone: "UTC",
        total: 7,
        buckets: [
          { start: "2026-03-01T00:00:00.000Z", counts: { organization: 3, content: 4 } },
          { start: "2026-03-01T01:00:00.000Z", counts: {} },
        ],
      },
      200,
      100,
    );
    expect(layout.maxTotal).toBe(10);
    expect(layout.total).toBe(7);
    expect(layout.totals).toEqual({ organization: 3, content: 4 });
    const [first, second] = layout.bars;
    expect(first?.segments).toEqual([
      { category: "organization", count: 3, y: 70, height: 30 },
      { category: "content", count: 4, y: 30, height: 40 },
    ]);
    expect(first?.end).toBe("2026-03-01T01:00:00.000Z");
    expect(second?.end).toBe("2026-03-01T02:00:00.000Z");
    expect(second?.x).toBeGreaterThan(99);
  });

  it("picks nice maxima and spread ticks", () => {
    expect([0, 1, 3, 7, 12, 260].map(niceMax)).toEqual([1, 1, 5, 10, 20, 500]);
    expect(tickIndices(3, 6)).toEqual([0, 1, 2]);
    expect(tickIndices(100, 3)).toEqual([0, 50, 99]);
  });
});

describe("zooming out", () => {
  const now = Date.parse("2026-03-10T12:00:00Z");
  it("doubles the span around its middle, never past now", () => {
    expect(
      zoomOutRange(
        { from: "2026-03-01T00:00:00.000Z", to: "2026-03-03T00:00:00.000Z" },
        "2026-03-03T00:00:00.000Z",
        now,
      ),
    ).toEqual({ from: "2026-02-28T00:00:00.000Z", to: "2026-03-04T00:00:00.000Z" });
    // Open at the top (a preset): ends now, starts twice as far back.
    expect(
      zoomOutRange({ from: "2026-03-09T12:00:00.000Z" }, "2026-03-10T12:00:00.000Z", now),
    ).toEqual({ from: "2026-03-08T12:00:00.000Z", to: "2026-03-10T12:00:00.000Z" });
    expect(zoomOutRange({}, "2026-03-10T12:00:00.000Z", now)).toBeNull();
  });
});
