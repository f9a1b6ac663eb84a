import { describe, expect, it } from "vitest";
import { describeFilter, formatBytes } from "./display.ts";

describe("formatBytes", () => {
  it("writes decimal units, one decimal under 10", () => {
    expect(formatBytes(0)).toBe("0 B");
    expect(formatBytes(999)).toBe("999 B");
    expect(formatBytes(1000)).toBe("1.0 KB");
    expect(formatBytes(4_250)).toBe("4.3 KB");
    expect(formatBytes(18_400_000)).toBe("18 MB");
    expect(formatBytes(999_999)).toBe("1.0 MB");
    expect(formatBytes(2_500_000_000)).toBe("2.5 GB");
  });
});

describe("describeFilter", () => {
  const formatInstant = (iso: string) => iso.slice(0, 16).replace("T", " ");
  const requestedAt = "2026-03-08T10:00:00.000Z";

  it("names a preset range and keeps the other terms as typed", () => {
    expect(
      describeFilter("type:repo.create created:>=2026-03-01T10:00:00.000Z", {
        requestedAt,
        formatInstant,
      }),
    ).toBe("Last 7 days · type:repo.create");
    expect(
      describeFilter("author:alice created:>=2026-03-07T09:12:00.000Z", {
        requestedAt,
        formatInstant,
      }),
    ).toBe("Last 24 hours · author:alice");
  });

  it("writes other ranges with the given instant format, never raw ISO", () => {
    expect(
      describeFilter("created:>=2026-02-01T08:30:00.000Z created:<2026-02-03T08:30:00.000Z", {
        requestedAt,
        formatInstant,
      }),
    ).toBe("2026-02-01 08:30 – 2026-02-03 08:30");
    expect(
      describeFilter("created:>=2026-01-05T08:30:00.000Z", { requestedAt, formatInstant }),
    ).toBe("Since 2026-01-05 08:30");
    expect(describeFilter("created:<2026-01-05T08:30:00.000Z", { formatInstant })).toBe(
      "Before 2026-01-05 08:30",
    );
  });

  it("says when there is no filter", () => {
    expect(describeFilter("", { formatInstant })).toBe("All entries");
  });
});
