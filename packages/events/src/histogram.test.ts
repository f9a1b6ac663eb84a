import { describe, expect, it } from "vitest";
import { histogramIntervalMs, pickHistogramInterval, targetHistogramBuckets } from "./histogram.ts";

const minute = 60_000;
const hour = 60 * minute;
const day = 24 * hour;

describe("pickHistogramInterval", () => {
  it("uses minute buckets under a few hours, then hours, days, weeks and months", () => {
    expect(pickHistogramInterval(15 * minute)).toBe("minute");
    expect(pickHistogramInterval(3 * hour)).toBe("minute");
    expect(pickHistogramInterval(200 * minute)).toBe("minute");
    expect(pickHistogramInterval(200 * minute + 1)).toBe("hour");
    expect(pickHistogramInterval(24 * hour)).toBe("hour");
    expect(pickHistogramInterval(7 * day)).toBe("hour");
    expect(pickHistogramInterval(30 * day)).toBe("day");
    expect(pickHistogramInterval(90 * day)).toBe("day");
    expect(pickHistogramInterval(2 * 365 * day)).toBe("week");
    expect(pickHistogramInterval(20 * 365 * day)).toBe("month");
    expect(pickHistogramInterval(500 * 365 * day)).toBe("month");
    expect(pickHistogramInterval(0)).toBe("minute");
  });

  it("never draws more than the target number of bars below the coarsest interval", () => {
    for (let span = minute; span < 10 * 365 * day; span *= 1.37) {
      const interval = pickHistogramInterval(span);
      if (interval !== "month") {
        expect(Math.ceil(span / histogramIntervalMs[interval])).toBeLessThanOrEqual(
          targetHistogramBuckets,
        );
      }
    }
  });
});
