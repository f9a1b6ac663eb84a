import { describe, expect, it } from "vitest";
import { anyType } from "../../test/support/query-helpers.ts";
import { parseQuery, queryKeys } from "./index.ts";

describe("queryKeys", () => {
  it("lists every key with a description, and its examples parse", () => {
    expect(queryKeys.map((k) => k.key)).toEqual([
      "author",
      "type",
      "category",
      "target",
      "ip",
      "country",
      "created",
    ]);
    for (const info of queryKeys) {
      expect(info.description.length).toBeGreaterThan(0);
      for (const example of info.examples) expect(parseQuery(example, anyType).ok).toBe(true);
      const negated = parseQuery(`-${info.key}:x`, anyType);
      if (!info.negatable) expect(negated.ok || negated.error.kind).toBe("negated_created");
    }
    expect(queryKeys.find((k) => k.key === "author")?.aliases).toEqual(["actor"]);
  });
});
