import { describe, expect, it } from "vitest";
import { completeQuery, remoteTermAt } from "./query-completion.ts";

describe("completion of values from the server", () => {
  it("knows when the term being typed is an author, target or ip value", () => {
    expect(remoteTermAt("type:repo.create author:zo", 26)).toEqual({ key: "author", prefix: "zo" });
    expect(remoteTermAt('-actor:"Zo', 10)).toEqual({ key: "author", prefix: "Zo" });
    expect(remoteTermAt("ip:203.", 7)).toEqual({ key: "ip", prefix: "203." });
    expect(remoteTermAt("country:f", 9)).toBeNull();
    expect(remoteTermAt("author", 6)).toBeNull();
  });

  it("lists the server's values under their own group, once, quoted when needed", () => {
    const completion = completeQuery("author:zo", 9, { author: ["zoe-bot"] }, Date.now(), {
      key: "author",
      prefix: "zo",
      values: [{ value: "Zoë Martin" }, { value: "zoe-bot" }],
    });
    expect(
      completion?.groups.map((group) => [group.label, group.options.map((o) => o.insert)]),
    ).toEqual([
      ["Recent", ["author:zoe-bot "]],
      ["In this log", ['author:"Zoë Martin" ']],
    ]);
  });

  it("matches recent values without regard to accents", () => {
    const completion = completeQuery("author:zoe", 10, { author: ["Zoë Martin", "bob"] });
    expect(completion?.groups[0]?.options.map((option) => option.label)).toEqual(["Zoë Martin"]);
  });
});
