import { describe, expect, it } from "vitest";
import { deadLettersPath, matchRoute } from "../../lib/router.ts";

describe("the refused events' address", () => {
  it("is a section of the organisation's settings, and its path leads back to it", () => {
    expect(matchRoute("/orgs/acme/settings/dead-letters")).toEqual({
      name: "org-dead-letters",
      orgSlug: "acme",
    });
    expect(matchRoute("/orgs/acme/settings/dead-letters/")).toEqual({
      name: "org-dead-letters",
      orgSlug: "acme",
    });
    expect(matchRoute(deadLettersPath("a b"))).toEqual({
      name: "org-dead-letters",
      orgSlug: "a b",
    });
    expect(matchRoute("/orgs/acme/settings/dead-letters/1")).toEqual({ name: "not-found" });
  });
});
