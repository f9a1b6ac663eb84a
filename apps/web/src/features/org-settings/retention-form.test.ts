import { describe, expect, it } from "vitest";
import { matchRoute, orgSettingsPath } from "../../lib/router.ts";
import { daysProblem } from "./retention-form.tsx";
import { formatDays } from "./retention-summary.tsx";

const bounds = { minDays: 1, maxDays: 180, defaultDays: 90 };

describe("the retention field", () => {
  it("accepts whole days within the plan's bounds, and names the bounds otherwise", () => {
    for (const value of ["1", "90", "180", " 30 "]) expect(daysProblem(value, bounds)).toBeNull();
    for (const value of ["", "0", "181", "1.5", "-3", "1e2", "ten"]) {
      expect(daysProblem(value, bounds), value).toContain("from 1 to 180");
    }
    expect(daysProblem("400", bounds)).toContain("your plan's maximum is 180 days");
  });

  it("writes days, and years where they are whole", () => {
    expect(formatDays(1)).toBe("1 day");
    expect(formatDays(180)).toBe("180 days");
    expect(formatDays(365)).toBe("365 days (about 1 year)");
    expect(formatDays(2557)).toBe("2,557 days (about 7 years)");
  });
});

describe("the settings route", () => {
  it("opens the organisation's settings at their address, and only there", () => {
    expect(orgSettingsPath("acme")).toBe("/orgs/acme/settings/retention");
    expect(matchRoute("/orgs/acme/settings/retention")).toEqual({
      name: "org-settings",
      orgSlug: "acme",
      section: "retention",
    });
    expect(matchRoute("/orgs/acme/settings")).toEqual({
      name: "org-settings",
      orgSlug: "acme",
      section: "retention",
    });
    expect(orgSettingsPath("acme", "alerts")).toBe("/orgs/acme/settings/alerts");
    expect(matchRoute("/orgs/acme/settings/alerts")).toEqual({
      name: "org-settings",
      orgSlug: "acme",
      section: "alerts",
    });
    expect(matchRoute("/orgs/acme/settings/keys")).toEqual({ name: "not-found" });
    expect(matchRoute("/orgs/acme/audit-logs")).toEqual({ name: "audit-log", orgSlug: "acme" });
  });
});
