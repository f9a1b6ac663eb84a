import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createDestinationSender,
  datadogIntakeUrl,
  type SenderDeps,
  type StreamBatch,
} from "../src/index.ts";
import { startEchoServer } from "./support/echo-server.ts";
import { DatadogIntakeReceiver, makeStreamEntries } from "./support/index.ts";

const apiKey = "dd0123456789abcdef0123456789abcd";
const deps: SenderDeps = { allowLocal: true, timeoutMs: 20_000 };
const org = { id: "org_test1", slug: "acme" };

function batch(from: number, count: number): StreamBatch {
  return { streamId: "str_dd1", org, entries: makeStreamEntries(count, from) };
}

describe("datadog sender (logs intake API v2)", () => {
  const receiver = new DatadogIntakeReceiver(apiKey);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => receiver.recover());

  const destination = () =>
    ({
      type: "datadog",
      site: "datadoghq.eu",
      url: `${receiver.origin}/api/v2/logs`,
      service: "auditlog",
      ddsource: "auditlog",
      ddtags: "env:test,team:sec",
    }) as const;
  const sender = (key = apiKey) => createDestinationSender(destination(), key, deps);

  it("builds the intake URL of a site", () => {
    expect(datadogIntakeUrl({ ...destination(), url: undefined })).toBe(
      "https://http-intake.logs.datadoghq.eu/api/v2/logs",
    );
  });

  it("delivers a JSON array of logs whose message is the entry, in seq order (202)", async () => {
    const before = receiver.logs.length;
    expect(await sender().send(batch(1, 120))).toEqual({ kind: "delivered", status: 202 });
    const logs = receiver.logs.slice(before);
    expect(logs.map((log) => JSON.parse(String(log.message)).seq)).toEqual(
      Array.from({ length: 120 }, (_, i) => i + 1),
    );
    expect(logs.map((log) => JSON.parse(String(log.message)).id)).toEqual(
      Array.from({ length: 120 }, (_, i) => `ent_test_${i + 1}`),
    );
    expect(logs[0]).toMatchObject({
      ddsource: "auditlog",
      ddtags: "env:test,team:sec",
      hostname: "auditlog",
      service: "auditlog",
      auditlog: { id: "ent_test_1", seq: 1, org: "acme", streamId: "str_dd1" },
    });
    const request = receiver.requests.at(-1);
    expect(request?.headers["dd-api-key"]).toBe(apiKey);
    expect(request?.headers["content-type"]).toBe("application/json");
  });

  it("splits a batch over 1,000 logs and over 5 MB into several requests", async () => {
    let before = receiver.requests.length;
    const many = makeStreamEntries(2_500, 10_000);
    expect(await sender().send({ streamId: "str_dd1", org, entries: many })).toMatchObject({
      kind: "delivered",
    });
    const countRequests = receiver.requests.slice(before);
    expect(countRequests.map((r) => JSON.parse(r.body.toString()).length)).toEqual([
      1000, 1000, 500,
    ]);
    expect(receiver.seqs().slice(-2_500)).toEqual(many.map((e) => e.seq));

    before = receiver.requests.length;
    // 60 entries of ~300 kB: ~18 MB, so at least 4 requests of at most 5 MB each.
    const heavy = makeStreamEntries(60, 20_000, { data: { blob: "y".repeat(300_000) } });
    expect(await sender().send({ streamId: "str_dd1", org, entries: heavy })).toMatchObject({
      kind: "delivered",
    });
    const sizeRequests = receiver.requests.slice(before);
    expect(sizeRequests.length).toBeGreaterThanOrEqual(4);
    for (const request of sizeRequests) {
      expect(request.status).toBe(202);
      expect(request.body.length).toBeLessThanOrEqual(5 * 1024 * 1024);
    }
    expect(receiver.seqs().slice(-60)).toEqual(heavy.map((e) => e.seq));
  });

  it("is not delivered when one part fails: the retry resends the batch", async () => {
    const before = receiver.requests.length;
    receiver.fail({ status: 503, times: 1 });
    // The first part fails: nothing after it is sent.
    const outcome = await sender().send(batch(1, 1_500));
    expect(outcome).toMatchObject({
      kind: "retry",
      status: 503,
      reason: expect.stringContaining("part 1 of 2"),
    });
    expect(receiver.requests.length).toBe(before + 1);
  });

  it("is rejected on a wrong API key (403)", async () => {
    const outcome = await sender("wrong-key-0000000000").send(batch(1, 1));
    expect(outcome).toMatchObject({ kind: "rejected", status: 403 });
    expect(JSON.stringify(outcome)).not.toContain("wrong-key-0000000000");
  });

  it("retries 429 and 5xx with Retry-After", async () => {
    for (const status of [429, 500, 503]) {
      receiver.fail({ status, retryAfter: "3", times: 1 });
      expect(await sender().send(batch(1, 1))).toMatchObject({
        kind: "retry",
        status,
        retryAfterMs: 3000,
      });
    }
  });

  it("retries while the intake is down", async () => {
    await receiver.stop();
    try {
      expect(await sender().send(batch(1, 1))).toMatchObject({ kind: "retry", status: null });
    } finally {
      await receiver.start();
    }
  });

  it("refuses an internal address when local URLs are not allowed, sending nothing", async () => {
    const before = receiver.requests.length;
    const outcome = await createDestinationSender(destination(), apiKey, {
      ...deps,
      allowLocal: false,
    }).send(batch(1, 1));
    expect(outcome.kind).toBe("refused");
    expect(receiver.requests.length).toBe(before);
  });
});

describe("datadog test receiver", () => {
  const receiver = new DatadogIntakeReceiver(apiKey);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());

  async function post(body: string, headers: Record<string, string>) {
    const response = await fetch(`${receiver.origin}/api/v2/logs`, {
      method: "POST",
      headers,
      body,
    });
    return response.status;
  }

  it("checks the key, the JSON and the limits as the intake documents", async () => {
    const json = { "content-type": "application/json" };
    const log = JSON.stringify({ message: JSON.stringify({ id: "e1", seq: 1 }) });
    expect(await post(`[${log}]`, json)).toBe(403);
    expect(await post(`[${log}]`, { ...json, "dd-api-key": "nope" })).toBe(403);
    expect(await post("[{", { ...json, "dd-api-key": apiKey })).toBe(400);
    expect(
      await post(`[${Array(1001).fill(log).join(",")}]`, { ...json, "dd-api-key": apiKey }),
    ).toBe(400);
    expect(
      await post(`["${"z".repeat(5 * 1024 * 1024)}"]`, { ...json, "dd-api-key": apiKey }),
    ).toBe(413);
    expect(await post(`[${log}]`, { ...json, "dd-api-key": apiKey })).toBe(202);
  });
});

describe("datadog sender reasons", () => {
  it("never carry the API key, even when the intake echoes it", async () => {
    const echo = await startEchoServer(400);
    try {
      const outcome = await createDestinationSender(
        { type: "datadog", site: "datadoghq.com", url: echo.origin, service: "a", ddsource: "a" },
        apiKey,
        deps,
      ).send(batch(1, 1));
      expect(echo.seen[0]?.["dd-api-key"]).toBe(apiKey);
      expect(outcome).toMatchObject({ kind: "rejected", status: 400 });
      expect(JSON.stringify(outcome)).not.toContain(apiKey);
    } finally {
      await echo.close();
    }
  });
});
