import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createDestinationSender,
  type DeliveryOutcome,
  encodeEntryRun,
  type SenderDeps,
  type StreamBatch,
  streamMessageBody,
  streamMessagePieces,
} from "../src/index.ts";
import { startEchoServer } from "./support/echo-server.ts";
import { makeEntries, makeStreamEntries, WebhookReceiver } from "./support/index.ts";

const secret = `whsec_${randomBytes(24).toString("base64")}`;
const deps: SenderDeps = { allowLocal: true, timeoutMs: 10_000 };
const org = { id: "org_test1", slug: "acme" };

function batch(from: number, count: number): StreamBatch {
  return { streamId: "str_https1", org, entries: makeStreamEntries(count, from) };
}

function expectNoSecret(outcome: DeliveryOutcome, value: string) {
  expect(JSON.stringify(outcome)).not.toContain(value);
}

describe("https sender (Standard Webhooks)", () => {
  const receiver = new WebhookReceiver(secret);
  beforeAll(() => receiver.start());
  afterAll(() => receiver.stop());
  beforeEach(() => receiver.recover());

  const sender = () =>
    createDestinationSender({ type: "https", url: `${receiver.origin}/hooks/audit` }, secret, deps);

  it("delivers signed batches that standardwebhooks verifies, every entry with its id and seq in order", async () => {
    const before = receiver.messages.length;
    const s = sender();
    expect(await s.send(batch(1, 50))).toEqual({ kind: "delivered", status: 204 });
    expect(await s.send(batch(51, 25))).toEqual({ kind: "delivered", status: 204 });
    const messages = receiver.messages.slice(before);
    expect(messages.map((m) => m.id)).toEqual(["str_https1_1-50", "str_https1_51-75"]);
    expect(messages[0]?.org).toEqual(org);
    expect(messages[0]?.streamId).toBe("str_https1");
    const entries = messages.flatMap((m) => m.entries);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 75 }, (_, i) => i + 1));
    expect(entries.map((e) => e.id)).toEqual(
      Array.from({ length: 75 }, (_, i) => `ent_test_${i + 1}`),
    );
    expect(messages[1]?.timestamp).toBe(makeEntries(1, 75)[0]?.receivedAt);
  });

  it("sends the same webhook-id and body on a retry (receivers deduplicate by it)", async () => {
    const before = receiver.requests.length;
    const s = sender();
    const same = batch(100, 3);
    await s.send(same);
    await s.send(same);
    const [a, b] = receiver.requests.slice(before);
    expect(a?.headers["webhook-id"]).toBe("str_https1_100-102");
    expect(b?.headers["webhook-id"]).toBe(a?.headers["webhook-id"]);
    expect(b?.body.equals(a?.body ?? Buffer.alloc(0))).toBe(true);
  });

  it("marks a test batch and gives it an id of its own", async () => {
    const outcome = await sender().send({ ...batch(1, 1), test: true });
    expect(outcome.kind).toBe("delivered");
    const last = receiver.messages.at(-1);
    expect(last?.test).toBe(true);
    expect(last?.id).toMatch(/^str_https1_test-\d+$/);
  });

  it("is rejected (401 from the verifier) when signed with another secret", async () => {
    const other = `whsec_${randomBytes(24).toString("base64")}`;
    const outcome = await createDestinationSender(
      { type: "https", url: receiver.origin },
      other,
      deps,
    ).send(batch(1, 2));
    expect(outcome).toMatchObject({ kind: "rejected", status: 401 });
    expectNoSecret(outcome, other);
    expect(receiver.requests.at(-1)?.status).toBe(401);
  });

  it("refuses a secret that is not whsec_ without sending or quoting it", async () => {
    const before = receiver.requests.length;
    const outcome = await createDestinationSender(
      { type: "https", url: receiver.origin },
      "not-a-whsec-secret",
      deps,
    ).send(batch(1, 1));
    expect(outcome).toMatchObject({ kind: "rejected", status: null });
    expectNoSecret(outcome, "not-a-whsec-secret");
    expect(receiver.requests.length).toBe(before);
  });

  it("retries 500, 503 and 429, with Retry-After in seconds", async () => {
    for (const status of [500, 503, 429]) {
      receiver.fail({ status, retryAfter: "7", times: 1 });
      const outcome = await sender().send(batch(1, 2));
      expect(outcome).toEqual({
        kind: "retry",
        status,
        retryAfterMs: 7000,
        reason: expect.stringContaining(String(status)),
      });
    }
    expect((await sender().send(batch(1, 2))).kind).toBe("delivered");
  });

  it("retries while the receiver is down, and delivers once it is back on the same port", async () => {
    const port = receiver.port;
    await receiver.stop();
    const outcome = await sender().send(batch(200, 2));
    expect(outcome).toMatchObject({
      kind: "retry",
      status: null,
      reason: expect.stringContaining("ECONNREFUSED"),
    });
    await receiver.start();
    expect(receiver.port).toBe(port);
    expect(await sender().send(batch(200, 2))).toMatchObject({ kind: "delivered" });
  });

  it("refuses an internal address when local URLs are not allowed, sending nothing", async () => {
    const before = receiver.requests.length;
    const outcome = await createDestinationSender({ type: "https", url: receiver.origin }, secret, {
      ...deps,
      allowLocal: false,
    }).send(batch(1, 1));
    expect(outcome.kind).toBe("refused");
    const named = await createDestinationSender(
      { type: "https", url: "https://hooks.example.com/x" },
      secret,
      {
        ...deps,
        allowLocal: false,
        lookup: async () => [{ address: "10.1.2.3", family: 4 }],
      },
    ).send(batch(1, 1));
    expect(named).toMatchObject({ kind: "refused" });
    expect(receiver.requests.length).toBe(before);
  });

  it("never follows a redirect", async () => {
    receiver.fail({ status: 307, times: 1 });
    const outcome = await sender().send(batch(1, 1));
    expect(outcome).toMatchObject({
      kind: "retry",
      status: 307,
      reason: expect.stringContaining("not followed"),
    });
  });

  it("gives up at deps.timeoutMs and on the caller's signal", async () => {
    // A host that never answers: the lookup hangs, so only the deadline ends the send.
    const hanging = createDestinationSender(
      { type: "https", url: "https://slow.example.com/" },
      secret,
      {
        ...deps,
        timeoutMs: 50,
        lookup: () => new Promise(() => {}),
      },
    );
    expect(await hanging.send(batch(1, 1))).toMatchObject({
      kind: "retry",
      reason: "no answer within 50 ms",
    });
    const controller = new AbortController();
    controller.abort();
    expect(await sender().send(batch(1, 1), { signal: controller.signal })).toMatchObject({
      kind: "retry",
      reason: "delivery cancelled",
    });
  });
});

describe("https sender reasons", () => {
  it("never carry the secret, even when a receiver echoes what it got", async () => {
    const echo = await startEchoServer(400);
    try {
      const outcome = await createDestinationSender(
        { type: "https", url: echo.origin },
        secret,
        deps,
      ).send(batch(1, 1));
      expect(outcome).toMatchObject({ kind: "rejected", status: 400 });
      // The signature is derived from the secret, not the secret: the secret itself never shows.
      expectNoSecret(outcome, secret);
      expectNoSecret(outcome, secret.slice(6));
    } finally {
      await echo.close();
    }
  });
});

describe("https message body", () => {
  it("is the JSON of the message object, the entries' texts spliced in byte for byte", () => {
    const entries = makeEntries(3, 7, { description: 'quote " backslash \\ é ☃' });
    const body = streamMessageBody({ streamId: "str_x", org, entries: makeStreamEntries(0) });
    expect(JSON.parse(body).data.entries).toEqual([]);
    for (const test of [false, true]) {
      const text = streamMessageBody({
        streamId: "str_x",
        org,
        entries: entries.map((entry) => ({ ...entry, json: JSON.stringify(entry) })),
        ...(test ? { test } : {}),
      });
      expect(text).toBe(
        JSON.stringify({
          type: "audit_log.entries",
          timestamp: entries[2]?.receivedAt,
          data: { org, streamId: "str_x", entries, ...(test ? { test: true } : {}) },
        }),
      );
    }
  });
});

describe("https message bytes", () => {
  // A seeded generator (no property-testing dependency here): the same cases on every run.
  let state = 17;
  const random = (below: number) => {
    state = (state * 1_103_515_245 + 12_345) % 2_147_483_648;
    return state % below;
  };
  // ASCII, JSON escapes, Latin-1, BMP, astral pairs and lone surrogates (replaced alike).
  const alphabet = [
    "a",
    "Z",
    "0",
    " ",
    '"',
    "\\",
    "é",
    "Î",
    "☃",
    "日",
    "😀",
    "\ud800",
    "\udfff",
    ",",
  ];
  const text = (max: number) =>
    Array.from({ length: random(max) }, () => alphabet[random(alphabet.length)]).join("");

  it("are byte for byte the UTF-8 of the message text, entries encoded together or not", () => {
    const entriesOf = () =>
      makeStreamEntries(40, 1).map((entry) => ({ ...entry, json: text(300) }));
    const alone = entriesOf();
    // As the shared read encodes them: runs read together, in one buffer each.
    const together = entriesOf();
    for (let from = 0; from < together.length; from += 13) {
      const run = together.slice(from, from + 13);
      encodeEntryRun(
        run,
        run.map((entry) => Buffer.byteLength(entry.json)),
      );
    }
    // A wrong count keeps nothing: those entries are encoded on their own when sent.
    const miscounted = entriesOf();
    encodeEntryRun(
      miscounted,
      miscounted.map((entry) => Buffer.byteLength(entry.json) + 1),
    );
    for (const shared of [alone, together, miscounted]) {
      for (let round = 0; round < 200; round++) {
        const from = random(shared.length);
        const picked = shared.slice(from, from + random(shared.length - from + 1));
        // Now and then a gap: entries not consecutive in their buffer (a filtered stream).
        const entries = random(4) === 0 ? picked.filter((_, i) => i % 3 !== 1) : picked;
        for (const test of [false, true]) {
          const message = {
            streamId: `str_${text(6)}`,
            org: { id: "org_1", slug: text(8) },
            entries,
            ...(test ? { test } : {}),
          };
          const pieces = streamMessagePieces(message);
          expect(Buffer.concat(pieces).equals(Buffer.from(streamMessageBody(message)))).toBe(true);
        }
      }
    }
    // Consecutive entries encoded together go as one slice of their buffer, between the frame's.
    expect(
      streamMessagePieces({ streamId: "str_x", org, entries: together.slice(1, 12) }),
    ).toHaveLength(3);
  });
});
