import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrgWithKey, post, sampleEvent, startTestApi } from "./support/test-stack.ts";

interface ErrorAnswer {
  status: number;
  code: string;
  details: { path: string; message: string }[];
}

/** Issue 13: what ingestion accepts must not be able to corrupt, forge or bloat the log. */
describe("POST /v1/events: integrity of what is accepted", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let apiKey: string;

  beforeAll(async () => {
    stack = await startTestApi();
    apiKey = (await createOrgWithKey("team", "integrity")).apiKey;
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  const queuedJobs = async () => {
    const counts = await stack.services.ingestQueue.getJobCounts("wait", "delayed", "prioritized");
    return Object.values(counts).reduce((sum, n) => sum + n, 0);
  };

  /** Posts, expecting a refusal: the answer's status, code and details. */
  async function refusal(body: unknown): Promise<ErrorAnswer> {
    const before = await queuedJobs();
    const response = await post(stack.app, apiKey, body);
    const text = await response.text();
    expect(response.status, text).toBeGreaterThanOrEqual(400);
    expect(response.status, text).toBeLessThan(500);
    // Nothing of a refused request is queued.
    expect(await queuedJobs()).toBe(before);
    const parsed = JSON.parse(text) as {
      error: { code: string; details?: ErrorAnswer["details"] };
    };
    return {
      status: response.status,
      code: parsed.error.code,
      details: parsed.error.details ?? [],
    };
  }

  async function accepted(body: unknown): Promise<void> {
    const response = await post(stack.app, apiKey, body);
    expect(response.status, await response.clone().text()).toBe(202);
  }

  describe("item 1: the NUL character", () => {
    it("refuses NUL in an actor name, a target name and a nested data value, naming each path", async () => {
      const answer = await refusal({
        events: [
          sampleEvent(0),
          sampleEvent(1, {
            actor: { type: "user", id: "usr_1", name: "ali\u0000ce" },
            target: { type: "model", id: "acme/bert", name: "acme/\u0000bert" },
            data: {
              repo: { type: "model", name: "acme/bert" },
              extra: { tags: ["fine", "hid\u0000den"] },
            },
          }),
        ],
      });
      expect(answer).toMatchObject({ status: 400, code: "validation_failed" });
      expect(answer.details.map((d) => d.path).sort()).toEqual([
        "events[1].actor.name",
        "events[1].data.extra.tags[1]",
        "events[1].target.name",
      ]);
      expect(answer.details[0]?.message).toMatch(/NUL/);
    });

    it("refuses NUL in the context, the type-checked data and a key of data", async () => {
      const answer = await refusal({
        events: [
          sampleEvent(0, { context: { ip: "203.0.113.7", userAgent: "agent\u0000/1" } }),
          sampleEvent(1, { data: { repo: { type: "model", name: "a/b\u0000" } } }),
          sampleEvent(2, { data: { repo: { type: "model", name: "a/b" }, "k\u0000ey": 1 } }),
        ],
      });
      expect(answer.status).toBe(400);
      expect(answer.details.map((d) => d.path)).toEqual([
        "events[0].context.userAgent",
        "events[1].data.repo.name",
        "events[2].data.k\\u0000ey",
      ]);
    });
  });

  it("refuses a key __proto__ wherever it sits (it would be stored without it), naming each", async () => {
    // As JSON text: in an object literal, `__proto__` sets the prototype instead of a key.
    const withKey = (data: string) =>
      JSON.parse(
        `{"type":"repo.create","actor":{"type":"user","id":"u_1","name":"alice"},"data":${data}}`,
      );
    const answer = await refusal({
      events: [
        sampleEvent(0),
        withKey('{"repo":{"type":"model","name":"a/b"},"__proto__":":1V"}'),
        withKey(
          '{"repo":{"type":"model","name":"a/b"},"extra":{"tags":[{"__proto__":{"admin":true}}]}}',
        ),
      ],
    });
    expect(answer).toMatchObject({ status: 400, code: "validation_failed" });
    expect(answer.details.map((d) => d.path)).toEqual([
      "events[1].data.__proto__",
      "events[2].data.extra.tags[0].__proto__",
    ]);
    expect(answer.details[0]?.message).toMatch(/"__proto__" is not accepted/);
  });

  describe("item 6: the API's own records and the time of an event", () => {
    it.each(["org.audit_log.export", "org.audit_log.download"])(
      "answers 403 for %s posted with an ingestion key, and queues nothing",
      async (type) => {
        const forged = {
          type,
          actor: { type: "user", id: "usr_admin", name: "the-admin" },
          data: { exportId: "exp_0123456789abcdef", format: "ndjson" },
        };
        const single = await refusal(forged);
        expect(single).toMatchObject({
          status: 403,
          code: "forbidden",
          details: [{ path: "type", message: expect.stringMatching(/API/) }],
        });
        const inBatch = await refusal({ events: [sampleEvent(0), forged] });
        expect(inBatch).toMatchObject({ status: 403, details: [{ path: "events[1].type" }] });
      },
    );

    it("refuses an occurredAt two days after the time the API received it, and accepts 23 hours", async () => {
      const ahead = (hours: number) => new Date(Date.now() + hours * 3_600_000).toISOString();
      const answer = await refusal(sampleEvent(1, { occurredAt: ahead(48) }));
      expect(answer).toMatchObject({
        status: 400,
        code: "validation_failed",
        details: [{ path: "occurredAt", message: expect.stringMatching(/future|after/) }],
      });
      const yearTenThousandMinusOne = await refusal({
        events: [sampleEvent(0), sampleEvent(1, { occurredAt: "9999-12-31T23:59:59Z" })],
      });
      expect(yearTenThousandMinusOne.details.map((d) => d.path)).toEqual(["events[1].occurredAt"]);
      await accepted(sampleEvent(2, { occurredAt: ahead(23) }));
      // With an offset: the same instant, written in another zone.
      const inTokyo = new Date(Date.now() + 23 * 3_600_000 + 9 * 3_600_000)
        .toISOString()
        .replace("Z", "+09:00");
      await accepted(sampleEvent(3, { occurredAt: inTokyo }));
    });

    it("refuses an occurredAt before 1970 (PostgreSQL refuses year 0), and accepts an old backfill", async () => {
      const answer = await refusal(sampleEvent(1, { occurredAt: "0000-01-01T00:00:00Z" }));
      expect(answer.details.map((d) => d.path)).toEqual(["occurredAt"]);
      expect((await refusal(sampleEvent(1, { occurredAt: "1969-12-31T23:59:59Z" }))).status).toBe(
        400,
      );
      await accepted(sampleEvent(2, { occurredAt: "1970-01-01T00:00:00Z" }));
      await accepted(sampleEvent(3, { occurredAt: "2016-03-01T12:00:00Z" }));
    });
  });

  describe("item 7: the size and depth of one event", () => {
    const cap = 64 * 1024;

    /** A repo.create event whose JSON (without id and occurredAt) is exactly `bytes` long. */
    function eventOfSize(bytes: number, filler: string) {
      const base = sampleEvent(7, { data: { repo: { type: "model", name: "a/b" }, pad: "" } });
      const baseBytes = Buffer.byteLength(JSON.stringify(base));
      const fillerBytes = Buffer.byteLength(JSON.stringify(filler)) - 2; // `"` is `\"` in JSON
      const remaining = bytes - baseBytes;
      const pad =
        filler.repeat(Math.floor(remaining / fillerBytes)) + "x".repeat(remaining % fillerBytes);
      const event = sampleEvent(7, { data: { repo: { type: "model", name: "a/b" }, pad } });
      expect(Buffer.byteLength(JSON.stringify(event))).toBe(bytes);
      return event;
    }

    it("accepts an event of exactly 64 KiB of JSON and refuses one byte more, naming the event", async () => {
      for (const filler of ["x", "é", "😀", '"']) {
        await accepted({ events: [sampleEvent(0), eventOfSize(cap, filler)] });
        const answer = await refusal({ events: [sampleEvent(0), eventOfSize(cap + 1, filler)] });
        expect(answer).toMatchObject({
          status: 400,
          code: "validation_failed",
          details: [{ path: "events[1]", message: expect.stringMatching(/65,?536/) }],
        });
      }
      // A client's own id does not count against the cap: the API adds one when it is absent.
      await accepted({ ...eventOfSize(cap, "x"), id: "client-supplied-id-0123456789" });
    });

    /** `data` holding `levels` nested objects under `nest` (data itself is level 1). */
    function nested(levels: number) {
      let value: unknown = "leaf";
      for (let i = 1; i < levels; i++) value = { nest: value };
      return sampleEvent(1, { data: { repo: { type: "model", name: "a/b" }, nest: value } });
    }

    it("accepts data nested 32 levels deep and refuses 33, naming the path", async () => {
      await accepted(nested(32));
      const answer = await refusal({ events: [sampleEvent(0), nested(33)] });
      expect(answer.status).toBe(400);
      expect(answer.details).toEqual([
        {
          path: `events[1].data${".nest".repeat(32)}`,
          message: expect.stringMatching(/32 levels/),
        },
      ]);
      const arrays = await refusal(
        sampleEvent(1, { data: { repo: { type: "model", name: "a/b" }, list: deepArray(40) } }),
      );
      expect(arrays.details.map((d) => d.path)).toEqual([`data.list${"[0]".repeat(31)}`]);
    });

    it("answers a 5,000-deep body with a 4xx naming the path, not a 5xx", async () => {
      const text = `{"type":"repo.create","actor":{"type":"user","id":"u","name":"u"},"data":{"repo":{"name":"a/b"},"deep":${'{"a":'.repeat(5000)}1${"}".repeat(5000)}}}`;
      const answer = await refusal(text);
      expect(answer.status).toBe(400);
      expect(answer.details.map((d) => d.path)).toEqual([`data.deep${".a".repeat(31)}`]);
      const inArrays = await refusal(
        `{"events":[{"type":"repo.create","actor":{"type":"user","id":"u","name":"u"},"data":{"repo":{"name":"a/b"},"deep":${"[".repeat(5000)}${"]".repeat(5000)}}}]}`,
      );
      expect(inArrays.status).toBe(400);
      expect(inArrays.details[0]?.path).toMatch(/^events\[0\]\.data\.deep(\[0\])+$/);
    });
  });

  describe("item 8: actor.avatarUrl", () => {
    it.each([
      "javascript:alert(document.cookie)",
      "data:image/svg+xml;base64,PHN2Zy8+",
      "file:///etc/passwd",
      "http://example.com/a.png",
      "ftp://example.com/a.png",
      "https://127.0.0.1/a.png",
      "https://169.254.169.254/latest/meta-data/",
      "https://10.0.0.1/a.png",
      "https://[::1]/a.png",
      "https://[fd00::1]/a.png",
      "https://[::ffff:127.0.0.1]/a.png",
      "https://2130706433/a.png",
      "https://0x7f.1/a.png",
      "https://203.0.113.9/a.png",
      "https://localhost/a.png",
      "https://avatars.localhost./a.png",
      "https://metadata.google.internal/computeMetadata/v1/",
      "https://printer.local/a.png",
      "https://intranet/a.png",
      "https://user:secret@example.com/a.png",
      "not a url",
    ])("refuses %s", async (avatarUrl) => {
      const answer = await refusal(
        sampleEvent(1, { actor: { type: "user", id: "usr_1", name: "alice", avatarUrl } }),
      );
      expect(answer).toMatchObject({
        status: 400,
        details: [
          { path: "actor.avatarUrl", message: expect.stringMatching(/https|host|password/) },
        ],
      });
      // The refusal does not echo credentials.
      expect(JSON.stringify(answer)).not.toContain("secret");
    });

    it.each([
      "https://example.com/a.png",
      "https://cdn-avatars.huggingface.co/v1/production/uploads/abc.png?w=64",
      "https://EXAMPLE.com:8443/a.png",
    ])("accepts %s", async (avatarUrl) => {
      await accepted(
        sampleEvent(1, { actor: { type: "user", id: "usr_1", name: "alice", avatarUrl } }),
      );
    });
  });
});

function deepArray(levels: number): unknown {
  let value: unknown = [];
  for (let i = 1; i < levels; i++) value = [value];
  return value;
}
