import { describe, expect, it } from "vitest";
import {
  createOrgWithKey,
  post,
  sampleEvent,
  usePipelineStack,
  waitForQueueDrained,
} from "./support/test-stack.ts";

interface Accepted {
  accepted: number;
  ids: string[];
}

describe("POST /v1/events with an Idempotency-Key", () => {
  const pipeline = usePipelineStack();
  const { pool } = pipeline;

  const storedIds = async (orgId: string) =>
    (
      await pool.query<{ id: string }>(
        "SELECT id FROM audit_entries WHERE org_id = $1 ORDER BY id",
        [orgId],
      )
    ).rows.map((row) => row.id);

  const keyed = (key: string) => ({ "idempotency-key": key });

  it("answers a retried request with the same ids, and stores its events once", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "idem-retry");
    const body = {
      events: [sampleEvent(1), sampleEvent(2, { id: "own-id" }), sampleEvent(3), sampleEvent(3)],
    };
    const first = await post(pipeline.stack.app, apiKey, body, keyed("retry-7f3a"));
    const retry = await post(pipeline.stack.app, apiKey, body, keyed("retry-7f3a"));
    expect(first.status).toBe(202);
    expect(retry.status).toBe(202);
    const answer = (await first.json()) as Accepted;
    expect(await retry.json()).toEqual(answer);
    // An event's own id is kept; the others are derived, one per position (two identical
    // events in one request are two events).
    expect(answer.ids[1]).toBe("own-id");
    for (const index of [0, 2, 3]) expect(answer.ids[index]).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(new Set(answer.ids).size).toBe(4);

    await waitForQueueDrained(pipeline.stack.services.ingestQueue);
    expect(await storedIds(org.id)).toEqual([...answer.ids].sort());
  });

  it("accepts the key as a structured-field string (quoted) or bare, as the same key", async () => {
    const { apiKey } = await createOrgWithKey("team", "idem-quoted");
    const body = sampleEvent(4);
    const bare = await post(
      pipeline.stack.app,
      apiKey,
      body,
      keyed("8e03978e-40d5-43e8-bc93-6894a57f9324"),
    );
    const quoted = await post(
      pipeline.stack.app,
      apiKey,
      body,
      keyed('"8e03978e-40d5-43e8-bc93-6894a57f9324"'),
    );
    expect(bare.status).toBe(202);
    expect(await quoted.json()).toEqual(await bare.json());
  });

  it("gives other ids for another key, another organisation, and no key at all", async () => {
    const first = await createOrgWithKey("team", "idem-one");
    const second = await createOrgWithKey("team", "idem-two");
    const body = sampleEvent(5);
    const idsOf = async (apiKey: string, headers: Record<string, string>) =>
      ((await (await post(pipeline.stack.app, apiKey, body, headers)).json()) as Accepted).ids[0];
    const ids = [
      await idsOf(first.apiKey, keyed("key-a")),
      await idsOf(first.apiKey, keyed("key-b")),
      await idsOf(second.apiKey, keyed("key-a")),
      await idsOf(first.apiKey, {}),
      await idsOf(first.apiKey, {}),
    ];
    expect(new Set(ids).size).toBe(ids.length);
    expect(await idsOf(first.apiKey, keyed("key-a"))).toBe(ids[0]);
  });

  it("stores every event of a different request sent with a reused key: nothing acknowledged is dropped", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "idem-reused");
    const first = await post(
      pipeline.stack.app,
      apiKey,
      { events: [sampleEvent(6)] },
      keyed("reused"),
    );
    const other = await post(
      pipeline.stack.app,
      apiKey,
      { events: [sampleEvent(7), sampleEvent(6)] },
      keyed("reused"),
    );
    expect(first.status).toBe(202);
    expect(other.status).toBe(202);
    const firstIds = ((await first.json()) as Accepted).ids;
    const otherIds = ((await other.json()) as Accepted).ids;
    // Position 0 holds another event: another id. The same event at another position is
    // another event too.
    expect(otherIds[0]).not.toBe(firstIds[0]);
    expect(otherIds[1]).not.toBe(firstIds[0]);
    await waitForQueueDrained(pipeline.stack.services.ingestQueue);
    expect(await storedIds(org.id)).toEqual([...firstIds, ...otherIds].sort());
  });

  it("derives nothing from the full IP address: events differing only in its host part share an id", async () => {
    const { apiKey } = await createOrgWithKey("team", "idem-ip");
    const withIp = (ip: string) => sampleEvent(8, { context: { ip, userAgent: "agent/1" } });
    const idFor = async (ip: string) =>
      (
        (await (
          await post(pipeline.stack.app, apiKey, withIp(ip), keyed("ip-key"))
        ).json()) as Accepted
      ).ids[0];
    // The id is exported with the entry; were the full address hashed into it, anyone knowing
    // the key could recover the address's last octet from the id by trying 256 candidates.
    expect(await idFor("203.0.113.7")).toBe(await idFor("203.0.113.200"));
    expect(await idFor("203.0.114.7")).not.toBe(await idFor("203.0.113.7"));
  });

  it.each([
    ["empty", ""],
    ["a space", "two words"],
    ["a backslash", "a\\b"],
    ["over 255 characters", "k".repeat(256)],
    ["an unterminated quote", '"open'],
    ["an empty quoted string", '""'],
  ])("refuses a key with %s: 400 naming the header, nothing queued", async (_, value) => {
    const { apiKey } = await createOrgWithKey("team", "idem-bad");
    const before = (await pipeline.stack.services.ingestQueue.getJobCounts("wait")).wait ?? 0;
    const response = await post(pipeline.stack.app, apiKey, sampleEvent(9), keyed(value));
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; message: string; requestId: string; details: unknown[] };
    };
    expect(body.error).toMatchObject({
      code: "bad_request",
      message: expect.stringContaining("Idempotency-Key"),
      requestId: expect.stringMatching(/^req_/),
      details: [{ path: "Idempotency-Key", message: expect.any(String) }],
    });
    expect((await pipeline.stack.services.ingestQueue.getJobCounts("wait")).wait ?? 0).toBe(before);
  });

  it("accepts a key of 255 visible ASCII characters", async () => {
    const { apiKey } = await createOrgWithKey("team", "idem-long");
    const key = "A1-_.~:/+=!#$%&'*^`|()[]{}<>,;?@".padEnd(255, "z");
    expect((await post(pipeline.stack.app, apiKey, sampleEvent(10), keyed(key))).status).toBe(202);
  });
});
