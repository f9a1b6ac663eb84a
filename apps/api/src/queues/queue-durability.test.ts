import { describe, expect, it } from "vitest";
import { combineNodeDurability, judgeQueueDurability } from "./queue-durability.ts";

const durable = judgeQueueDurability({
  appendonly: "yes",
  appendfsync: "everysec",
  maxmemoryPolicy: "noeviction",
  aofLastWriteStatus: "ok",
});

describe("a Redis Cluster's durability: every primary's", () => {
  it("is durable when every primary is, with the settings they share", () => {
    const combined = combineNodeDurability([
      { node: "10.0.0.1:6379", reading: durable },
      { node: "10.0.0.2:6379", reading: durable },
    ]);
    expect(combined).toEqual({ status: "durable", reasons: [], settings: durable.settings });
  });

  it("is as bad as its worst primary, naming that node, and says where settings differ", () => {
    const evicting = judgeQueueDurability({
      appendonly: "no",
      appendfsync: "everysec",
      maxmemoryPolicy: "allkeys-lru",
      aofLastWriteStatus: "ok",
    });
    const unreadable = judgeQueueDurability({
      appendonly: "yes",
      appendfsync: "unknown",
      maxmemoryPolicy: "noeviction",
      aofLastWriteStatus: "ok",
    });
    const combined = combineNodeDurability([
      { node: "10.0.0.1:6379", reading: durable },
      { node: "10.0.0.2:6379", reading: unreadable },
      { node: "10.0.0.3:6379", reading: evicting },
    ]);
    expect(combined.status).toBe("volatile");
    expect(combined.reasons).toHaveLength(3);
    expect(combined.reasons[0]).toMatch(/^10\.0\.0\.2:6379: Redis appendfsync cannot be read/);
    expect(combined.reasons.slice(1).every((r) => r.startsWith("10.0.0.3:6379: "))).toBe(true);
    expect(combined.settings).toEqual({
      appendonly: "mixed",
      appendfsync: "mixed",
      maxmemoryPolicy: "mixed",
    });
    // Without the volatile node: unknown, which is not proof either.
    expect(combineNodeDurability([{ node: "a:1", reading: unreadable }]).status).toBe("unknown");
  });
});
