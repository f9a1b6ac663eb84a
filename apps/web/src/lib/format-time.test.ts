import { describe, expect, it } from "vitest";
import {
  formatBucket,
  formatFull,
  formatOffset,
  formatShort,
  formatTick,
  fromZonedInputValue,
  toZonedInputValue,
  zonedDayTerm,
  zoneOffsetMs,
} from "./format-time.ts";

const paris = "Europe/Paris";
const hour = 3_600_000;

describe("the time helpers, in an explicit zone", () => {
  it("writes the same instant as each zone's wall clock", () => {
    const iso = "2026-11-26T13:03:00.000Z";
    const now = Date.parse("2026-12-01T00:00:00Z");
    expect(formatShort(iso, now, "UTC")).toMatch(/13:03/);
    expect(formatShort(iso, now, paris)).toMatch(/14:03/);
    expect(formatShort(iso, now, "Asia/Kolkata")).toMatch(/18:33/);
    // Another year (in that zone) shows the year.
    expect(formatShort("2025-12-31T23:30:00Z", now, "UTC")).toMatch(/2025/);
    expect(formatShort("2025-12-31T23:30:00Z", now, paris)).not.toMatch(/2025/);
    expect(formatFull(iso, paris)).toMatch(/\b(14|2):03:00/);
    expect(formatFull(iso, "UTC")).toMatch(/\b(13|1):03:00/);
  });

  it("knows each zone's offset, summer time included", () => {
    expect(zoneOffsetMs(Date.parse("2026-01-15T12:00:00Z"), paris)).toBe(hour);
    expect(zoneOffsetMs(Date.parse("2026-07-15T12:00:00Z"), paris)).toBe(2 * hour);
    expect(zoneOffsetMs(Date.parse("2026-07-15T12:00:00Z"), "America/New_York")).toBe(-4 * hour);
    expect(zoneOffsetMs(Date.parse("2026-07-15T12:00:00Z"), "UTC")).toBe(0);
    expect(formatOffset(5.5 * hour)).toBe("+05:30");
    expect(formatOffset(-4 * hour)).toBe("-04:00");
  });

  it("reads and writes datetime-local values as the zone's wall clock", () => {
    expect(toZonedInputValue("2026-03-01T08:30:00Z", paris)).toBe("2026-03-01T09:30");
    expect(toZonedInputValue("2026-03-01T08:30:00Z", "UTC")).toBe("2026-03-01T08:30");
    expect(fromZonedInputValue("2026-03-01T09:30", paris)).toBe("2026-03-01T08:30:00.000Z");
    expect(fromZonedInputValue("2026-07-01T09:30", paris)).toBe("2026-07-01T07:30:00.000Z");
    expect(fromZonedInputValue("2026-03-01T09:30", "UTC")).toBe("2026-03-01T09:30:00.000Z");
    // Round trip across the autumn change (Paris: 25 October 2026, 03:00 → 02:00).
    for (const iso of ["2026-10-24T22:00:00.000Z", "2026-10-25T03:00:00.000Z"]) {
      expect(fromZonedInputValue(toZonedInputValue(iso, paris), paris)).toBe(iso);
    }
    expect(fromZonedInputValue("", paris)).toBeUndefined();
    expect(fromZonedInputValue("yesterday", paris)).toBeUndefined();
  });

  it("names days for created: as UTC dates, or with the zone's offset elsewhere", () => {
    const now = Date.parse("2026-03-01T23:30:00Z"); // already 2 March in Paris
    expect(zonedDayTerm(now, 0, "UTC")).toBe("2026-03-01");
    expect(zonedDayTerm(now, 0, paris)).toBe("2026-03-02T00:00+01:00");
    expect(zonedDayTerm(now, 7, paris)).toBe("2026-02-23T00:00+01:00");
    expect(zonedDayTerm(now, 0, paris, true)).toBe("2026-03-02T23:59:59.999+01:00");
    // The day after the spring change starts at +02:00.
    expect(zonedDayTerm(Date.parse("2026-03-30T12:00:00Z"), 0, paris)).toBe(
      "2026-03-30T00:00+02:00",
    );
  });

  it("names chart buckets at their size, in the zone", () => {
    const iso = "2026-11-26T13:00:00.000Z";
    expect(formatBucket(iso, "minute", paris)).toMatch(/14:00/);
    expect(formatBucket(iso, "hour", "UTC")).toMatch(/13:00/);
    expect(formatBucket("2026-11-25T23:00:00.000Z", "day", paris)).toMatch(/26/);
    expect(formatBucket("2026-11-25T23:00:00.000Z", "day", "UTC")).toMatch(/25/);
    expect(formatBucket("2026-11-22T23:00:00.000Z", "week", paris)).toMatch(/^Week of .*23/);
    expect(formatBucket("2026-10-31T23:00:00.000Z", "month", paris)).toMatch(/Nov.*2026/);
    expect(formatTick(iso, "minute", paris)).toBe("14:00");
  });
});
