import { describe, expect, it } from "vitest";
import { type AuditEvent, AuditLogClient, type DropReason } from "../src/index.ts";
import { freePort, sampleEvent } from "./support/stack.ts";

describe("AuditLogClient.close() with the API unreachable", () => {
  it("gives up at its deadline, counting every unsent event as abandoned, and takes no more", async () => {
    const port = await freePort(); // nothing listens there
    const dropped: Array<{ event: AuditEvent; reason: DropReason }> = [];
    const client = new AuditLogClient({
      baseUrl: `http://127.0.0.1:${port}`,
      apiKey: "alk_unused",
      maxBatchEvents: 100,
      initialRetryDelayMs: 50,
      onDrop: (event, reason) => dropped.push({ event, reason }),
      handleExit: false,
    });
    const ids = await Promise.all(
      Array.from({ length: 250 }, (_, index) => client.record(sampleEvent(5, index))),
    );
    const stats = await client.close({ timeoutMs: 1500 });
    expect(stats).toMatchObject({ recorded: 250, acknowledged: 0, abandoned: 250, pending: 0 });
    // Connection refused, retried with backoff until the deadline.
    expect(stats.responses.network).toBeGreaterThan(3);
    expect(dropped.map((drop) => drop.reason)).toEqual(Array(250).fill("close_timeout"));
    expect(dropped.map((drop) => drop.event.id).sort()).toEqual([...ids].sort());
    expect(() => client.record(sampleEvent(5, 999))).toThrow(/after close/);
    // A second close answers the same result.
    expect(await client.close()).toEqual(stats);
  });
});
