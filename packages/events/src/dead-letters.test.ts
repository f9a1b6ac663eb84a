import { describe, expect, it } from "vitest";
import { deadLetterIdSchema, deadLetterIssues, withTruncatedIp } from "./dead-letters.ts";

describe("dead letters' contract", () => {
  it("truncates a refused event's address, in a malformed job's events too, and twice changes nothing", () => {
    const event = { type: "repo.create", context: { ip: "203.0.113.77", userAgent: "curl/8" } };
    expect(withTruncatedIp(event)).toEqual({
      type: "repo.create",
      context: { ip: "203.0.113.0", userAgent: "curl/8" },
    });
    expect(withTruncatedIp(withTruncatedIp(event))).toEqual(withTruncatedIp(event));
    expect(withTruncatedIp([event, { context: { ip: "2001:db8:1:2::3" } }])).toEqual([
      { type: "repo.create", context: { ip: "203.0.113.0", userAgent: "curl/8" } },
      { context: { ip: "2001:db8:1::" } },
    ]);
    // Not an address: nothing of it is kept.
    expect(withTruncatedIp({ context: { ip: "203.0.113.77 " } })).toEqual({
      context: { ip: "[removed]" },
    });
    expect(withTruncatedIp({ context: { ip: 42 } })).toEqual({ context: { ip: "[removed]" } });
    expect(withTruncatedIp("not an event")).toBe("not an event");
  });

  it("gives issue paths within the event, dropping what a stored row should not hold", () => {
    expect(
      deadLetterIssues([
        { path: "events[12].data.repo.name", message: "required" },
        { path: "events[0]", message: "refused by PostgreSQL" },
        { path: "orgId", message: "malformed job" },
        { message: "no path" },
        "junk",
        { path: "x" },
      ]),
    ).toEqual([
      { path: "data.repo.name", message: "required" },
      { path: "", message: "refused by PostgreSQL" },
      { path: "orgId", message: "malformed job" },
      { path: "", message: "no path" },
    ]);
    expect(deadLetterIssues(null)).toEqual([]);
  });

  it("takes ids a bigint holds, in plain decimal only", () => {
    for (const ok of ["1", "42", "9223372036854775807"]) {
      expect(deadLetterIdSchema.safeParse(ok).success, ok).toBe(true);
    }
    for (const bad of ["", "0", "-1", "01", "1e3", "5.0", "abc", "9223372036854775808", " 1"]) {
      expect(deadLetterIdSchema.safeParse(bad).success, bad).toBe(false);
    }
  });
});
