import { request as httpRequest } from "node:http";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startPrivateRedis } from "./support/private-redis.ts";
import { listen } from "./support/sse-client.ts";
import {
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

/** A POST over real HTTP, its body sent with Content-Length or, when `chunked`, in pieces. */
function postOverHttp(
  url: string,
  apiKey: string,
  body: string,
  chunked: boolean,
): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const request = httpRequest(
      `${url}/v1/events`,
      {
        method: "POST",
        headers: {
          authorization: `Bearer ${apiKey}`,
          "content-type": "application/json",
          ...(chunked ? {} : { "content-length": Buffer.byteLength(body) }),
        },
      },
      (response) => {
        let text = "";
        response.setEncoding("utf8");
        response.on("data", (chunk: string) => {
          text += chunk;
        });
        response.on("end", () => resolve({ status: response.statusCode ?? 0, body: text }));
      },
    );
    // A server that answers before reading everything may close the socket under us.
    request.on("error", reject);
    if (chunked) {
      for (let i = 0; i < body.length; i += 64 * 1024) request.write(body.slice(i, i + 64 * 1024));
      request.end();
    } else {
      request.end(body);
    }
  });
}

describe("POST /v1/events (API side)", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let apiKey: string;
  let freeKey: string;

  beforeAll(async () => {
    stack = await startTestApi();
    apiKey = (await createOrgWithKey("team", "ingest-api")).apiKey;
    freeKey = (await createOrgWithKey("free", "ingest-free")).apiKey;
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it("accepts one event with 202, assigning an id, and enqueues one job", async () => {
    const before = await stack.services.ingestQueue.getJobCounts("wait");
    const response = await post(stack.app, apiKey, sampleEvent(1));
    expect(response.status).toBe(202);
    const body = (await response.json()) as { accepted: number; ids: string[] };
    expect(body.accepted).toBe(1);
    expect(body.ids[0]).toMatch(/^evt_[0-9a-f]{24}$/);
    const after = await stack.services.ingestQueue.getJobCounts("wait");
    expect(after.wait).toBe((before.wait ?? 0) + 1);
  });

  it("keeps client-supplied ids and enqueues a batch as a single job", async () => {
    const before = (await stack.services.ingestQueue.getJobCounts("wait")).wait ?? 0;
    const events = Array.from({ length: 3 }, (_, i) => sampleEvent(i, { id: `client-${i}` }));
    const response = await post(stack.app, apiKey, { events });
    expect(response.status).toBe(202);
    expect(await response.json()).toEqual({
      accepted: 3,
      ids: ["client-0", "client-1", "client-2"],
    });
    expect((await stack.services.ingestQueue.getJobCounts("wait")).wait).toBe(before + 1);
  });

  it("refuses a batch with one bad event, naming its index and field", async () => {
    const events = [
      sampleEvent(0),
      sampleEvent(1),
      sampleEvent(2, {
        data: { user: "bob", oldRole: "read", newRole: "owner" },
        type: "org.change_role",
      }),
    ];
    const response = await post(stack.app, apiKey, { events });
    expect(response.status).toBe(400);
    const body = (await response.json()) as {
      error: { code: string; requestId: string; details: { path: string }[] };
    };
    expect(body.error.code).toBe("validation_failed");
    expect(body.error.requestId).toMatch(/^req_/);
    expect(body.error.details.map((d) => d.path)).toEqual(["events[2].data.newRole"]);
  });

  it("names unknown types, missing actors and bad IPs without echoing the address", async () => {
    const response = await post(stack.app, apiKey, {
      events: [
        { type: "repo.explode", actor: { type: "user", id: "u", name: "u" } },
        { type: "repo.create", data: { repo: { type: "model", name: "a/b" } } },
        sampleEvent(3, { context: { ip: "300.1.2.3" } }),
      ],
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    const body = JSON.parse(text) as { error: { details: { path: string; message: string }[] } };
    expect(body.error.details).toEqual(
      expect.arrayContaining([
        { path: "events[0].type", message: "unknown event type" },
        expect.objectContaining({ path: "events[1].actor" }),
        { path: "events[2].context.ip", message: "must be an IPv4 or IPv6 address" },
      ]),
    );
    expect(text).not.toContain("300.1.2.3");
  });

  it("refuses a secret value inside a secret event", async () => {
    const response = await post(stack.app, apiKey, {
      type: "repo.add_secret",
      actor: { type: "user", id: "u", name: "alice" },
      target: { type: "space", id: "acme/demo" },
      data: { key: "HF_TOKEN", value: "hf_supersecret" },
    });
    expect(response.status).toBe(400);
    const text = await response.text();
    expect(text).toContain("data");
    expect(text).not.toContain("hf_supersecret");
  });

  it("refuses malformed bodies with clear 4xx answers", async () => {
    expect((await post(stack.app, apiKey, "{not json")).status).toBe(400);
    expect((await post(stack.app, apiKey, [sampleEvent(1)])).status).toBe(400);
    expect((await post(stack.app, apiKey, { events: [] })).status).toBe(400);
    const tooMany = Array.from({ length: 1001 }, (_, i) => ({ type: "org.leave", id: `x${i}` }));
    const tooManyResponse = await post(stack.app, apiKey, { events: tooMany });
    expect(tooManyResponse.status).toBe(400);
    expect(JSON.stringify(await tooManyResponse.json())).toContain('"path":"events"');
    const wrongType = await post(stack.app, apiKey, JSON.stringify(sampleEvent(1)), {
      "content-type": "text/plain",
    });
    expect(wrongType.status).toBe(415);
  });

  it("answers 413 for a body over 1 MiB", async () => {
    const big = {
      events: [
        sampleEvent(1, {
          data: { repo: { type: "model", name: "a/b" }, pad: "x".repeat(1_100_000) },
        }),
      ],
    };
    const response = await post(stack.app, apiKey, big);
    expect(response.status).toBe(413);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
      "payload_too_large",
    );
  });

  it("over real HTTP: reads a declared-length body and a chunked one, and refuses either over the limit", async () => {
    const server = await listen(stack.app);
    try {
      const batch = JSON.stringify({
        events: Array.from({ length: 50 }, (_, i) => sampleEvent(i)),
      });
      for (const chunked of [false, true]) {
        const accepted = await postOverHttp(server.url, apiKey, batch, chunked);
        expect(accepted.status).toBe(202);
        expect(JSON.parse(accepted.body)).toMatchObject({ accepted: 50 });
      }
      const tooBig = JSON.stringify({
        events: [sampleEvent(1, { data: { pad: "x".repeat(1_100_000) } })],
      });
      for (const chunked of [false, true]) {
        const refused = await postOverHttp(server.url, apiKey, tooBig, chunked).catch(
          (error: NodeJS.ErrnoException) => ({ status: -1, body: error.code ?? "" }),
        );
        // A chunked upload may be cut off once the answer is sent; a reset is a refusal too.
        if (refused.status === -1) expect(chunked && refused.body).toBe("ECONNRESET");
        else {
          expect(refused.status).toBe(413);
          expect(JSON.parse(refused.body).error.code).toBe("payload_too_large");
        }
      }
      const broken = await postOverHttp(server.url, apiKey, '{"events": [', false);
      expect(broken.status).toBe(400);
    } finally {
      await server.close();
    }
  });

  it("answers 401 without a key or with a wrong one, and 403 for a free-plan organisation", async () => {
    expect((await post(stack.app, null, sampleEvent(1))).status).toBe(401);
    expect((await post(stack.app, "alk_wrong", sampleEvent(1))).status).toBe(401);
    const forged = `alk_${"A".repeat(43)}`;
    expect((await post(stack.app, forged, sampleEvent(1))).status).toBe(401);
    const free = await post(stack.app, freeKey, sampleEvent(1));
    expect(free.status).toBe(403);
    expect(((await free.json()) as { error: { message: string } }).error.message).toMatch(
      /free plan/,
    );
  });

  /** The common error body of a 503, and how long the request took. */
  async function postTimed(app: typeof stack.app, event: unknown) {
    const started = performance.now();
    const response = await post(app, apiKey, event);
    const elapsedMs = performance.now() - started;
    return {
      status: response.status,
      body: (await response.json()) as unknown,
      elapsedMs,
      retryAfter: response.headers.get("retry-after"),
    };
  }
  const unavailableBody = {
    error: {
      code: "service_unavailable",
      message: expect.stringMatching(/nothing was accepted/),
      requestId: expect.stringMatching(/^req_/),
    },
  };

  it("answers 503 at once, not a hang, when Redis is unreachable", async () => {
    // REDIS_COMMAND_TIMEOUT_MS bounds the wait: the answer must come well within a few of them.
    const broken = await startTestApi({
      REDIS_URL: "redis://127.0.0.1:1",
      REDIS_COMMAND_TIMEOUT_MS: "500",
    });
    try {
      const answer = await postTimed(broken.app, sampleEvent(1));
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual(unavailableBody);
      // When to come back, as a 429 says it: clients that honour it wait instead of hammering.
      expect(answer.retryAfter).toBe("1");
      expect(answer.elapsedMs).toBeLessThan(3000);
      const ready = await broken.app.request("/readyz");
      expect(ready.status).toBe(503);
      expect(await ready.json()).toMatchObject({ checks: { postgres: "ok", redis: "down" } });
    } finally {
      await broken.services.close();
    }
  });

  it("answers 503 at once when its Redis dies, and queues nothing of that request once Redis is back", {
    timeout: 60_000,
  }, async () => {
    const redis = await startPrivateRedis();
    const own = await startTestApi({ REDIS_URL: redis.url, REDIS_COMMAND_TIMEOUT_MS: "500" });
    const queuedIds = async () =>
      (await own.services.ingestQueue.getJobs(["wait", "active", "delayed", "prioritized"])).map(
        (job) => (job.data as { events: { id: string }[] }).events.map((e) => e.id),
      );
    try {
      expect((await post(own.app, apiKey, sampleEvent(1, { id: "before-crash" }))).status).toBe(
        202,
      );
      expect(await queuedIds()).toEqual([["before-crash"]]);

      await redis.kill();
      await waitFor(
        async () => own.services.redis.status,
        (status) => status !== "ready",
      );
      const answer = await postTimed(own.app, sampleEvent(2, { id: "during-outage" }));
      expect(answer.status).toBe(503);
      expect(answer.body).toEqual(unavailableBody);
      expect(answer.elapsedMs).toBeLessThan(3000);

      // Redis comes back empty (it saved nothing). The refused request must stay refused: once
      // the API has reconnected and accepted a new event, that event is all the queue holds.
      await redis.start();
      await waitFor(
        async () => own.services.redis.status,
        (status) => status === "ready",
      );
      expect((await post(own.app, apiKey, sampleEvent(3, { id: "after-outage" }))).status).toBe(
        202,
      );
      expect(await queuedIds()).toEqual([["after-outage"]]);
    } finally {
      await own.services.close();
      await redis.destroy();
    }
  });

  it("reports health and readiness", async () => {
    expect((await stack.app.request("/healthz")).status).toBe(200);
    // A Redis of its own, keeping an append-only file: readiness also asks whether Redis keeps
    // acknowledged events (queue-durability.test.ts), and the shared one's settings are not
    // this test's to decide.
    const redis = await startPrivateRedis({ appendOnly: true });
    const own = await startTestApi({ REDIS_URL: redis.url });
    try {
      await waitFor(
        async () => own.services.redis.status,
        (status) => status === "ready",
      );
      const ready = await own.app.request("/readyz");
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({
        status: "ready",
        ready: true,
        checks: { postgres: "ok", redis: "ok", queueDurability: "durable", ingestBacklog: "ok" },
      });
    } finally {
      await own.services.close();
      await redis.destroy();
    }
  });
});
