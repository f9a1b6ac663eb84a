import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createDestinationSender,
  type SenderDeps,
  type StreamBatch,
  splunkEventText,
  splunkEventUrl,
} from "../src/index.ts";
import { startEchoServer } from "./support/echo-server.ts";
import {
  makeEntries,
  makeStreamEntries,
  SplunkHecReceiver,
  splitConcatenatedJson,
} from "./support/index.ts";

const token = "5a8c2f7e-hec-token-0001";
const deps: SenderDeps = { allowLocal: true, timeoutMs: 10_000 };
const org = { id: "org_test1", slug: "acme" };

function batch(from: number, count: number): StreamBatch {
  return { streamId: "str_splunk1", org, entries: makeStreamEntries(count, from) };
}

describe("splunk sender (HTTP Event Collector)", () => {
  const receiver = new SplunkHecReceiver(token, { allowedIndexes: ["main", "audit"] });
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => receiver.recover());

  const sender = (over: { token?: string; url?: string; index?: string } = {}) =>
    createDestinationSender(
      {
        type: "splunk",
        url: over.url ?? receiver.origin,
        sourcetype: "auditlog:entry",
        ...(over.index ? { index: over.index } : {}),
      },
      over.token ?? token,
      deps,
    );

  it("appends the event path once", () => {
    expect(splunkEventUrl("https://hec.example.com:8088")).toBe(
      "https://hec.example.com:8088/services/collector/event",
    );
    expect(splunkEventUrl("https://hec.example.com/services/collector/event/")).toBe(
      "https://hec.example.com/services/collector/event",
    );
  });

  it("delivers each entry as an HEC event, with id and seq, in seq order", async () => {
    const before = receiver.events.length;
    expect(await sender({ index: "audit" }).send(batch(1, 40))).toEqual({
      kind: "delivered",
      status: 200,
    });
    expect(
      await sender({ url: `${receiver.origin}/services/collector/event` }).send(batch(41, 10)),
    ).toMatchObject({
      kind: "delivered",
    });
    const events = receiver.events.slice(before);
    expect(events).toHaveLength(50);
    expect(events.map((e) => (e.event as { seq: number }).seq)).toEqual(
      Array.from({ length: 50 }, (_, i) => i + 1),
    );
    expect(events.map((e) => (e.event as { id: string }).id)).toEqual(
      Array.from({ length: 50 }, (_, i) => `ent_test_${i + 1}`),
    );
    const first = events[0];
    const entry = makeEntries(1, 1)[0];
    expect(first).toMatchObject({
      host: "auditlog",
      source: "auditlog:acme",
      sourcetype: "auditlog:entry",
      index: "audit",
    });
    // Epoch seconds with the milliseconds as decimals.
    expect(first?.time).toBe(Date.parse(entry?.occurredAt ?? "") / 1000);
    expect(events[40]).not.toHaveProperty("index");
    const request = receiver.requests.at(-1);
    expect(request?.path).toBe("/services/collector/event");
    expect(request?.headers.authorization).toBe(`Splunk ${token}`);
  });

  it("is rejected with the HEC code on a wrong token (403, code 4) and an index not allowed (400, code 7)", async () => {
    const wrong = await sender({ token: "wrong-token-99999" }).send(batch(1, 2));
    expect(wrong).toMatchObject({
      kind: "rejected",
      status: 403,
      reason: expect.stringContaining("Invalid token (code 4)"),
    });
    expect(JSON.stringify(wrong)).not.toContain("wrong-token-99999");
    const index = await sender({ index: "secret-index" }).send(batch(1, 2));
    expect(index).toMatchObject({
      kind: "rejected",
      status: 400,
      reason: expect.stringContaining("Incorrect index"),
    });
  });

  it("retries 503 server busy, 500 and 429 with Retry-After (seconds or HTTP date)", async () => {
    const now = new Date("2026-12-02T04:00:00Z");
    const dated = createDestinationSender(
      { type: "splunk", url: receiver.origin, sourcetype: "auditlog" },
      token,
      {
        ...deps,
        now: () => now,
      },
    );
    receiver.fail({ status: 503, retryAfter: "30", times: 1 });
    expect(await dated.send(batch(1, 1))).toMatchObject({
      kind: "retry",
      status: 503,
      retryAfterMs: 30_000,
      reason: expect.stringContaining("Server is busy (code 9)"),
    });
    receiver.fail({
      status: 429,
      retryAfter: new Date(now.getTime() + 90_000).toUTCString(),
      times: 1,
    });
    expect(await dated.send(batch(1, 1))).toMatchObject({
      kind: "retry",
      status: 429,
      retryAfterMs: 90_000,
    });
    receiver.fail({ status: 500, times: 1 });
    const plain = await dated.send(batch(1, 1));
    expect(plain).toMatchObject({ kind: "retry", status: 500 });
    expect(plain).not.toHaveProperty("retryAfterMs");
    expect((await dated.send(batch(1, 1))).kind).toBe("delivered");
  });

  it("retries while HEC is down", async () => {
    await receiver.stop();
    try {
      expect(await sender().send(batch(1, 1))).toMatchObject({ kind: "retry", status: null });
    } finally {
      await receiver.start();
    }
    expect((await sender().send(batch(1, 1))).kind).toBe("delivered");
  });

  it("refuses an internal address when local URLs are not allowed, sending nothing", async () => {
    const before = receiver.requests.length;
    const outcome = await createDestinationSender(
      { type: "splunk", url: receiver.origin, sourcetype: "x" },
      token,
      {
        ...deps,
        allowLocal: false,
      },
    ).send(batch(1, 1));
    expect(outcome.kind).toBe("refused");
    expect(receiver.requests.length).toBe(before);
  });

  it("splits a batch over 1 MB into several requests, delivered only when all were", async () => {
    const big = makeStreamEntries(30, 1000, { data: { blob: "x".repeat(60_000) } });
    const before = receiver.requests.length;
    const outcome = await sender().send({ streamId: "str_splunk1", org, entries: big });
    expect(outcome.kind).toBe("delivered");
    const requests = receiver.requests.slice(before);
    expect(requests.length).toBeGreaterThan(1);
    for (const request of requests) expect(request.body.length).toBeLessThanOrEqual(1024 * 1024);
    expect(receiver.seqs().slice(-30)).toEqual(big.map((e) => e.seq));
  });
});

describe("splunk event text", () => {
  it("is the JSON of the HEC event object, the entry's text spliced in", () => {
    const [entry] = makeEntries(1, 3, { description: 'a "quoted" é' });
    if (!entry) throw new Error("no entry");
    const destination = {
      type: "splunk",
      url: "https://hec.example.com",
      sourcetype: "auditlog:entry",
      index: "audit",
    } as const;
    const text = splunkEventText({ ...entry, json: JSON.stringify(entry) }, destination, org, true);
    expect(text).toBe(
      JSON.stringify({
        time: Date.parse(entry.occurredAt) / 1000,
        host: "auditlog",
        source: "auditlog:acme",
        sourcetype: "auditlog:entry",
        index: "audit",
        fields: { test: "true" },
        event: entry,
      }),
    );
  });
});

describe("splitConcatenatedJson", () => {
  it("splits objects with or without separators, braces and escapes inside strings", () => {
    expect(splitConcatenatedJson('{"a":"}{\\"x"}{"b":[1,{"c":2}]}\n {"d":"\\\\"}')).toEqual([
      { a: '}{"x' },
      { b: [1, { c: 2 }] },
      { d: "\\" },
    ]);
    expect(splitConcatenatedJson('{"a":1} [1]')).toBeNull();
    expect(splitConcatenatedJson('{"a":1')).toBeNull();
  });
});

describe("splunk test receiver", () => {
  const receiver = new SplunkHecReceiver(token);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  async function post(body: string, authorization?: string) {
    const response = await fetch(`${receiver.origin}/services/collector/event`, {
      method: "POST",
      headers: authorization ? { authorization } : {},
      body,
    });
    return { status: response.status, body: await response.json() };
  }

  it("answers as HEC documents for missing auth, bad auth and malformed events", async () => {
    const event = JSON.stringify({ time: 1, event: { id: "e1", seq: 1 } });
    expect(await post(event)).toEqual({
      status: 401,
      body: { text: "Token is required", code: 2 },
    });
    expect(await post(event, `Bearer ${token}`)).toEqual({
      status: 401,
      body: { text: "Invalid authorization", code: 3 },
    });
    expect(await post("", `Splunk ${token}`)).toEqual({
      status: 400,
      body: { text: "No data", code: 5 },
    });
    expect((await post("{not json", `Splunk ${token}`)).body).toMatchObject({ code: 6 });
    expect((await post(`${event}{"time":2}`, `Splunk ${token}`)).body).toEqual({
      text: "Event field is required",
      code: 12,
      "invalid-event-number": 1,
    });
    expect(
      (await post('{"time":"soon","event":{"id":"e","seq":1}}', `Splunk ${token}`)).body,
    ).toMatchObject({ code: 6 });
    expect(await post(`${event}\n${event}`, `Splunk ${token}`)).toEqual({
      status: 200,
      body: { text: "Success", code: 0 },
    });
  });
});

describe("splunk sender reasons", () => {
  it("never carry the token, even when HEC echoes it", async () => {
    const echo = await startEchoServer(400);
    try {
      const outcome = await createDestinationSender(
        { type: "splunk", url: echo.origin, sourcetype: "x" },
        token,
        deps,
      ).send(batch(1, 1));
      expect(echo.seen[0]?.authorization).toBe(`Splunk ${token}`);
      expect(outcome).toMatchObject({
        kind: "rejected",
        status: 400,
        reason: expect.stringContaining("[redacted]"),
      });
      expect(JSON.stringify(outcome)).not.toContain(token);
    } finally {
      await echo.close();
    }
  });
});
