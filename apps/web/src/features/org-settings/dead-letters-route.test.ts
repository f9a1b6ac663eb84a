import { describe, expect, it } from "vitest";
import { matchRoute, orgSettingsPath } from "../../lib/router.ts";

describe("the refused events' address", () => {
  it("is a section of the organisation's settings, and its path leads back to it", () => {
    const deadLetters = { name: "org-settings", section: "dead-letters" };
    expect(matchRoute("/orgs/acme/settings/dead-letters")).toEqual({
      ...deadLetters,
      orgSlug: "acme",
    });
    expect(matchRoute("/orgs/acme/settings/dead-letters/")).toEqual({
      ...deadLetters,
      orgSlug: "acme",
    });
    expect(matchRoute(orgSettingsPath("a b", "dead-letters"))).toEqual({
      ...deadLetters,
      orgSlug: "a b",
    });
    expect(matchRoute("/orgs/acme/settings/dead-letters/1")).toEqual({ name: "not-found" });
  });
});
