import { expandTypePatterns } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import {
  compressTypes,
  isSelected,
  pivotQuery,
  queryChips,
  removeValue,
  selectedTypes,
  withTypes,
} from "./query-terms.ts";

describe("pivots", () => {
  it("narrows to one value or excludes it, keeping the other terms", () => {
    expect(pivotQuery("author:bob type:repo.create", "author", "alice", "only")).toBe(
      "author:alice type:repo.create",
    );
    expect(pivotQuery("author:bob author:alice", "author", "alice", "exclude")).toBe(
      "author:bob -author:alice",
    );
    expect(pivotQuery("-author:alice", "author", "alice", "only")).toBe("author:alice");
    expect(pivotQuery("", "author", "Zoë Martin", "only")).toBe('author:"Zoë Martin"');
    expect(pivotQuery("", "country", "fr", "exclude")).toBe("-country:FR");
    expect(pivotQuery("", "target", "acme (v2)", "only")).toBe('target:"acme (v2)"');
  });

  it("appends to a query that does not parse, and ignores a value the key cannot take", () => {
    expect(pivotQuery("(oops", "author", "alice", "only")).toBe("(oops author:alice");
    expect(pivotQuery("author:bob", "country", "Atlantis", "only")).toBe("author:bob");
  });

  it("knows what is selected and takes a value back out", () => {
    expect(isSelected("author:alice type:repo.*", "author", "alice")).toBe(true);
    expect(isSelected("-author:alice", "author", "alice")).toBe(false);
    expect(removeValue("author:alice -country:FR", "country", "FR")).toBe("author:alice");
  });
});

describe("chips", () => {
  it("lists every term of q with q without it", () => {
    const chips = queryChips('author:bob -type:org.* created:>=2026-01-01 "two words"');
    expect(chips?.map((chip) => [chip.text, chip.negated, chip.without])).toEqual([
      ["author:bob", false, '-type:org.* created:>=2026-01-01 "two words"'],
      ["-type:org.*", true, 'author:bob created:>=2026-01-01 "two words"'],
      ["created:>=2026-01-01", false, 'author:bob -type:org.* "two words"'],
      ['"two words"', false, "author:bob -type:org.* created:>=2026-01-01"],
    ]);
    expect(queryChips("(type:repo.create OR")).toBeNull();
    expect(queryChips("")).toEqual([]);
  });
});

describe("the type picker's terms", () => {
  const repoTypes = expandTypePatterns(["repo.*"]);

  it("writes a whole scope as scope.*, not every name", () => {
    expect(repoTypes.length).toBeGreaterThan(2);
    expect(compressTypes([...repoTypes, "org.change_role"])).toEqual(["repo.*", "org.change_role"]);
    expect(withTypes("author:bob", repoTypes)).toBe("author:bob type:repo.*");
    expect(withTypes("author:bob type:repo.*", [])).toBe("author:bob");
  });

  it("reads wildcards back as every type they select, exact types as themselves", () => {
    expect(selectedTypes("type:repo.*")).toEqual([...repoTypes].sort());
    expect(selectedTypes("type:org.change_role -type:repo.create")).toEqual(["org.change_role"]);
    expect(selectedTypes("(bad")).toEqual([]);
  });
});
