import { entriesStoredEventSchema, newId, realtimeChannels } from "@auditlog/events";
import type { startWorker } from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { listen, SseClient } from "./support/sse-client.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  testRedis,
} from "./support/test-stack.ts";

/**
 * The console's "N new entries" pill, server side: the worker announces each committed write
 * per organisation (counts only), and the API relays it on the live stream to that
 * organisation's admins, and to nobody else.
 */
describe("entries.stored: announced by the worker, relayed to the organisation's admins", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let http: Awaited<ReturnType<typeof listen>>;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  const clients: SseClient[] = [];
  const spy = testRedis("subscriber");
  const published: string[] = [];

  async function openStream(token: string) {
    const client = await SseClient.open(`${http.url}/v1/notifications/stream`, token);
    clients.push(client);
    await client.waitForEvent("ready");
    return client;
  }

  beforeAll(async () => {
    stack = await startTestApi();
    http = await listen(stack.app);
    worker = await startTestWorker(stack);
    await spy.subscribe(realtimeChannels.entriesStored);
    spy.on("message", (_channel: string, raw: string) => published.push(raw));
  });
  afterAll(async () => {
    for (const client of clients) client.close();
    await worker?.stop();
    await http?.close();
    await stack?.services.ingestQueue.obliterate({ force: true });
    await stack?.services.close();
    spy.disconnect();
  });

  it("sends the org's admins the count and highest seq of what was stored, and no content", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "live-entries");
    const other = await createOrgWithKey("team", "live-other");
    const admin = await createMemberWithToken(org.slug, "admin");
    const reader = await createMemberWithToken(org.slug, "read");
    const outsider = await createMemberWithToken(other.org.slug, "admin");
    const adminStream = await openStream(admin.token);
    const readerStream = await openStream(reader.token);
    const outsiderStream = await openStream(outsider.token);

    const secret = `secret-${newId("evt").slice(-8)}`;
    const events = Array.from({ length: 3 }, (_, i) =>
      sampleEvent(i, { actor: { type: "user", id: "u_live", name: secret } }),
    );
    expect((await post(stack.app, apiKey, { events })).status).toBe(202);

    const event = await adminStream.waitForEvent("entries.stored");
    const data = entriesStoredEventSchema.parse(JSON.parse(event.data));
    expect(data).toEqual({ orgSlug: org.slug, count: 3, highestSeq: 3 });

    // A second write moves the highest seq on.
    expect((await post(stack.app, apiKey, sampleEvent(9))).status).toBe(202);
    const next = await adminStream.waitFor(
      (e) => e.event === "entries.stored" && JSON.parse(e.data).highestSeq === 4,
    );
    expect(JSON.parse(next.data)).toEqual({ orgSlug: org.slug, count: 1, highestSeq: 4 });

    // What crossed Redis: the org's id and counts, nothing an entry holds.
    // The spy is another connection (on a cluster, maybe another node): the second message can
    // reach it after it reached the API's subscriber, so wait for it (failing at the deadline).
    const oursNow = () => published.filter((raw) => raw.includes(org.id));
    await expect.poll(() => oursNow().length, { timeout: 10_000 }).toBeGreaterThanOrEqual(2);
    const ours = oursNow();
    for (const raw of ours) {
      expect(Object.keys(JSON.parse(raw)).sort()).toEqual(["count", "highestSeq", "orgId"]);
      expect(raw).not.toContain(secret);
    }

    // A member who is not an admin, and another organisation's admin, heard nothing of it
    // (their streams are on the same process and subscriber, so they had every chance).
    expect(readerStream.events.some((e) => e.event === "entries.stored")).toBe(false);
    expect(outsiderStream.events.some((e) => e.event === "entries.stored")).toBe(false);
    expect(adminStream.events.some((e) => e.data.includes(secret))).toBe(false);
  });
});
