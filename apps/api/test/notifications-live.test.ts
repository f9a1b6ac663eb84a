import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase } from "@auditlog/db/testing";
import { newId, notificationSchema } from "@auditlog/events";
import { createLogger } from "@auditlog/observability";
import {
  isCluster,
  pubSubConnection,
  queueConnection,
  type RedisConnection,
} from "@auditlog/redis";
import { createExportNotifier, type FinishedExport } from "@auditlog/worker";
import { Queue } from "bullmq";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, SseClient } from "./support/sse-client.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  startTestApi,
  testRedis,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

function finishedExport(
  orgId: string,
  requestedBy: string,
  overrides: Partial<FinishedExport> = {},
): FinishedExport {
  return {
    id: newId("exp"),
    orgId,
    requestedBy,
    format: "ndjson",
    status: "ready",
    rowsWritten: 1234,
    fileSize: 56_789,
    error: null,
    query: "type:repo.create",
    ...overrides,
  };
}

describe("notifications: stored, listed, pushed live over SSE to every API process", () => {
  const queueName = `test-notify-live-${newId("evt").slice(-12)}`;
  const db = createTestDatabase();
  const { prisma } = driversOf(db);
  const publisher = testRedis("worker");
  const queue = new Queue(queueName, queueConnection(publisher, queueName));
  const notify = createExportNotifier({
    db,
    publisher,
    queue,
    emailEnabled: false,
    retryBaseMs: 50,
    logger: createLogger("test", "error"),
  });
  let first: Stack;
  let second: Stack;
  let firstHttp: Awaited<ReturnType<typeof listen>>;
  let secondHttp: Awaited<ReturnType<typeof listen>>;
  const clients: SseClient[] = [];
  let org: { id: string; slug: string };
  let alice: Awaited<ReturnType<typeof createMemberWithToken>>;
  let bob: Awaited<ReturnType<typeof createMemberWithToken>>;

  async function openStream(http: { url: string }, token: string) {
    const client = await SseClient.open(`${http.url}/v1/notifications/stream`, token);
    clients.push(client);
    return client;
  }

  beforeAll(async () => {
    first = await startTestApi();
    second = await startTestApi();
    firstHttp = await listen(first.app);
    secondHttp = await listen(second.app);
    ({ org } = await createOrgWithKey("team", "notify-live"));
    alice = await createMemberWithToken(org.slug, "admin");
    bob = await createMemberWithToken(org.slug, "admin");
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await firstHttp?.close();
    await secondHttp?.close();
    await first?.services.close();
    await second?.services.close();
    await queue.obliterate({ force: true });
    await queue.close();
    publisher.disconnect();
    await db.close();
  });

  it("pushes the requester's notification to their stream, and never another user's", async () => {
    const stream = await openStream(firstHttp, alice.token);
    expect(stream.status).toBe(200);
    expect(stream.contentType).toMatch(/^text\/event-stream/);
    const ready = await stream.waitForEvent("ready");
    expect(JSON.parse(ready.data)).toEqual({ unreadCount: expect.any(Number) });

    const bobs = finishedExport(org.id, bob.user.id);
    const alices = finishedExport(org.id, alice.user.id);
    // Published in this order on one channel, so Bob's arrives first if it arrives at all.
    await notify(bobs);
    await notify(alices);

    const event = await stream.waitFor(
      (e) => e.event === "notification" && JSON.parse(e.data).exportId === alices.id,
    );
    const notification = notificationSchema.parse(JSON.parse(event.data));
    expect(notification).toMatchObject({
      kind: "export.ready",
      title: "Export ready",
      orgSlug: org.slug,
      exportId: alices.id,
      readAt: null,
    });
    expect(notification.id).toMatch(/^ntf_[0-9a-f]{24}$/);
    expect(notification.body).toContain("1,234 entries");
    expect(event.id).toBe(notification.id);
    expect(stream.events.some((e) => e.data.includes(bobs.id))).toBe(false);

    // Stored too: the list has it, newest first, unread.
    const list = await first.app.request("/v1/notifications", {
      headers: { authorization: `Bearer ${alice.token}` },
    });
    const body = (await list.json()) as { notifications: Array<{ id: string }> };
    expect(body.notifications[0]?.id).toBe(notification.id);
  });

  it("delivers to the user's streams on two API processes, each with its own subscriber", async () => {
    const onFirst = await openStream(firstHttp, alice.token);
    const onSecond = await openStream(secondHttp, alice.token);
    await onFirst.waitForEvent("ready");
    await onSecond.waitForEvent("ready");
    expect(first.services.realtime.connected).toBe(true);
    expect(second.services.realtime.connected).toBe(true);

    const finished = finishedExport(org.id, alice.user.id, {
      status: "failed",
      error: "disk full",
      rowsWritten: 10n,
      fileSize: null,
    });
    await notify(finished);
    const isIt = (e: { event: string; data: string }) =>
      e.event === "notification" && JSON.parse(e.data).exportId === finished.id;
    const [a, b] = await Promise.all([onFirst.waitFor(isIt), onSecond.waitFor(isIt)]);
    expect(JSON.parse(a.data)).toEqual(JSON.parse(b.data));
    expect(JSON.parse(a.data)).toMatchObject({
      kind: "export.failed",
      title: "Export failed",
      body: expect.stringContaining("disk full"),
    });
  });

  it("reconnects its subscriber by itself and tells streams to resync", async () => {
    const stream = await openStream(firstHttp, alice.token);
    await stream.waitForEvent("ready");
    const readiesBefore = stream.events.filter((e) => e.event === "ready").length;
    // Cut this process's subscriber connection, as a network failure would (on a cluster, the
    // node connection its pub/sub goes over; the cluster client stays connected).
    const hub = first.services.realtime as unknown as { subscriber: RedisConnection };
    const connection = pubSubConnection(hub.subscriber);
    expect(connection?.status).toBe("ready");
    connection?.stream.destroy();
    await stream.waitFor(
      () => stream.events.filter((e) => e.event === "ready").length > readiesBefore,
    );
    const finished = finishedExport(org.id, alice.user.id);
    await notify(finished);
    await stream.waitFor(
      (e) => e.event === "notification" && JSON.parse(e.data).exportId === finished.id,
    );
    // The producer connection keeps failing fast.
    const producer = first.services.redis;
    expect(producer.options.enableOfflineQueue).toBe(false);
    const nodeOptions = isCluster(producer) ? producer.options.redisOptions : producer.options;
    expect(nodeOptions?.maxRetriesPerRequest).toBe(1);
  });

  it("stores a repeated announcement of the same export once", async () => {
    const finished = finishedExport(org.id, bob.user.id);
    await notify(finished);
    await notify(finished);
    const count = await prisma.notification.count({ where: { exportId: finished.id } });
    expect(count).toBe(1);
  });

  it("forgets a stream when its client disconnects", async () => {
    const carol = await createMemberWithToken(org.slug, "read");
    const stream = await openStream(firstHttp, carol.token);
    await stream.waitForEvent("ready");
    expect(first.services.realtime.clientCount(carol.user.id)).toBe(1);
    stream.close();
    expect(
      await waitFor(
        async () => first.services.realtime.clientCount(carol.user.id),
        (n) => n === 0,
      ),
    ).toBe(0);
  });

  it("refuses a stream without authentication", async () => {
    const response = await fetch(`${firstHttp.url}/v1/notifications/stream`);
    expect(response.status).toBe(401);
    await response.body?.cancel();
  });

  it("lists, filters unread, marks one and all read; another user's is a 404", async () => {
    const dave = await createMemberWithToken(org.slug, "admin");
    const erin = await createMemberWithToken(org.slug, "admin");
    const auth = (token: string) => ({ authorization: `Bearer ${token}` });
    const exports = [0, 1, 2].map(() => finishedExport(org.id, dave.user.id));
    for (const finished of exports) await notify(finished);
    const erinsExport = finishedExport(org.id, erin.user.id);
    await notify(erinsExport);

    type ListBody = {
      notifications: Array<{ id: string; exportId: string; readAt: string | null }>;
      unreadCount: number;
    };
    const list = async (query = "") => {
      const response = await first.app.request(`/v1/notifications${query}`, {
        headers: auth(dave.token),
      });
      expect(response.status).toBe(200);
      return (await response.json()) as ListBody;
    };

    const all = await list();
    expect(all.notifications.map((n) => n.exportId)).toEqual(exports.map((e) => e.id).reverse());
    expect(all.unreadCount).toBe(3);
    expect((await list("?limit=2")).notifications).toHaveLength(2);
    const newest = all.notifications[0];
    if (!newest) throw new Error("no notification");
    const page2 = await list(`?limit=2&before=${newest.id}`);
    expect(page2.notifications.map((n) => n.exportId)).toEqual([exports[1]?.id, exports[0]?.id]);

    const read = await first.app.request(`/v1/notifications/${newest.id}/read`, {
      method: "POST",
      headers: auth(dave.token),
    });
    expect(read.status).toBe(200);
    const readBody = (await read.json()) as { readAt: string | null };
    expect(readBody.readAt).not.toBeNull();
    const unread = await list("?unread=true");
    expect(unread.notifications).toHaveLength(2);
    expect(unread.unreadCount).toBe(2);

    // Erin's notification, seen by Dave: indistinguishable from a missing one.
    const erinsRow = await prisma.notification.findFirst({ where: { exportId: erinsExport.id } });
    const foreign = await first.app.request(`/v1/notifications/${erinsRow?.id}/read`, {
      method: "POST",
      headers: auth(dave.token),
    });
    expect(foreign.status).toBe(404);
    const missing = await first.app.request("/v1/notifications/ntf_000000000000000000000000/read", {
      method: "POST",
      headers: auth(dave.token),
    });
    expect(missing.status).toBe(404);
    expect(
      (await prisma.notification.findFirst({ where: { exportId: erinsExport.id } }))?.readAt,
    ).toBeNull();

    const readAll = await first.app.request("/v1/notifications/read-all", {
      method: "POST",
      headers: auth(dave.token),
    });
    expect(await readAll.json()).toEqual({ updated: 2 });
    expect((await list("?unread=true")).notifications).toHaveLength(0);
    // Erin's stay unread.
    const erins = await first.app.request("/v1/notifications?unread=true", {
      headers: auth(erin.token),
    });
    expect(((await erins.json()) as ListBody).unreadCount).toBe(1);

    const bad = await first.app.request("/v1/notifications?unread=maybe", {
      headers: auth(dave.token),
    });
    expect(bad.status).toBe(400);
  });
});

describe("organisation webhook management", () => {
  let stack: Stack;
  let org: { id: string; slug: string };
  let admin: Awaited<ReturnType<typeof createMemberWithToken>>;
  let writer: Awaited<ReturnType<typeof createMemberWithToken>>;

  beforeAll(async () => {
    // Local URLs on (as on a development machine); the last test turns them off.
    stack = await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "true" });
    ({ org } = await createOrgWithKey("team", "notify-hooks"));
    admin = await createMemberWithToken(org.slug, "admin");
    writer = await createMemberWithToken(org.slug, "write");
  });
  afterAll(async () => {
    await stack?.services.close();
  });

  function call(method: string, token: string | null, body?: unknown) {
    return stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
      method,
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(body !== undefined ? { "content-type": "application/json" } : {}),
      },
      ...(body !== undefined ? { body: JSON.stringify(body) } : {}),
    });
  }

  it("lets only admins set it, validates the URL, and shows the secret only when issued", async () => {
    expect((await call("GET", admin.token)).status).toBe(404);
    expect((await call("PUT", null, { url: "https://hooks.example.com/a" })).status).toBe(401);
    expect((await call("PUT", writer.token, { url: "https://hooks.example.com/a" })).status).toBe(
      403,
    );

    for (const url of [
      "ftp://hooks.example.com/a",
      "http://hooks.example.com/a",
      "not a url",
      "https://user:pw@hooks.example.com/a",
    ]) {
      const response = await call("PUT", admin.token, { url });
      expect(response.status, url).toBe(400);
      const body = (await response.json()) as { error: { details: Array<{ path: string }> } };
      expect(body.error.details.map((d) => d.path)).toEqual(["url"]);
    }
    const missing = await call("PUT", admin.token, {});
    expect(missing.status).toBe(400);

    const created = await call("PUT", admin.token, { url: "https://hooks.example.com/a" });
    expect(created.status).toBe(200);
    const createdBody = (await created.json()) as {
      url: string;
      secret?: string;
      enabled: boolean;
    };
    expect(createdBody).toMatchObject({ url: "https://hooks.example.com/a", enabled: true });
    expect(createdBody.secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(createdBody.secret?.slice(6) ?? "", "base64")).toHaveLength(32);

    const shown = (await (await call("GET", admin.token)).json()) as Record<string, unknown>;
    expect(shown.url).toBe("https://hooks.example.com/a");
    expect(shown).not.toHaveProperty("secret");

    const moved = (await (
      await call("PUT", admin.token, { url: "http://127.0.0.1:9/hook" })
    ).json()) as Record<string, unknown>;
    expect(moved.url).toBe("http://127.0.0.1:9/hook");
    expect(moved).not.toHaveProperty("secret");

    const rotated = (await (
      await call("PUT", admin.token, { url: "http://127.0.0.1:9/hook", rotateSecret: true })
    ).json()) as { secret?: string };
    expect(rotated.secret).toMatch(/^whsec_/);
    expect(rotated.secret).not.toBe(createdBody.secret);

    expect((await call("DELETE", writer.token)).status).toBe(403);
    expect((await call("DELETE", admin.token)).status).toBe(204);
    expect((await call("GET", admin.token)).status).toBe(404);
    expect((await call("DELETE", admin.token)).status).toBe(404);
  });

  it("refuses local URLs when they are not allowed (production)", async () => {
    const strict = await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "false" });
    try {
      for (const url of ["http://127.0.0.1:9/hook", "https://10.1.2.3/hook", "https://[::1]/h"]) {
        const response = await strict.app.request(`/v1/orgs/${org.slug}/webhook`, {
          method: "PUT",
          headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
          body: JSON.stringify({ url }),
        });
        expect(response.status, url).toBe(400);
      }
    } finally {
      await strict.services.close();
    }
  });
});
