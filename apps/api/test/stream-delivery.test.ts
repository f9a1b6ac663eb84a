import { webhookPayloadSchema } from "@auditlog/events/jobs";
import { WebhookReceiver } from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, startSmtpServer, verifyStandardWebhook } from "./support/receivers.ts";
import { insertStream, readStream, storedIds } from "./support/stream-fixtures.ts";
import {
  ingestSample,
  quickStreamWorkerEnv,
  startStreamTestApi,
  startWebhookReceiver,
  waitForDeliveries,
  waitForStored,
} from "./support/stream-stack.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * Issue 17, the delivery loop of log streams: in seq order, at least once, never a skip, through
 * receiver outages, pauses and backfills. One worker (ingest + streams) in this process, with
 * short retry, batch and failing bounds so each fault plays out in seconds. Streams use the real
 * https sender (signed the Standard Webhooks way) and a receiver that verifies each message with
 * the `standardwebhooks` package, on 127.0.0.1.
 */

/** The receiver's outage of the 500 test: the minute, shorter when asked to. */
const outageMs = Number(process.env.STREAM_TEST_OUTAGE_MS ?? 60_000);

describe("log stream delivery", () => {
  let api: Awaited<ReturnType<typeof startStreamTestApi>>;
  let stack: typeof api.stack;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let pool: typeof api.pool;
  let db: typeof api.db;

  beforeAll(async () => {
    api = await startStreamTestApi("streams", { WEBHOOK_ALLOW_LOCAL_URLS: "true" });
    ({ stack, pool, db } = api);
    smtp = await startSmtpServer();
    hooks = await startReceiver({});
    worker = await startTestWorker(stack, {
      ...quickStreamWorkerEnv,
      WORKER_ROLES: "ingest,streams,notifications",
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_RETRY_BASE_MS: "50",
      STREAM_LEASE_MS: "10000",
      STREAM_DELIVERY_TIMEOUT_MS: "3000",
      STREAM_FAILING_AFTER_SECONDS: "10",
    });
  });
  afterAll(async () => {
    await worker.stop();
    await smtp.close();
    await hooks.close();
    await api?.close();
  });

  const ingest = (apiKey: string, count: number, from = 0) =>
    ingestSample(api, apiKey, count, from);
  const receiverFor = startWebhookReceiver;
  const refused = (receiver: WebhookReceiver) =>
    receiver.requests.filter((request) => request.status >= 300).length;

  const stored = (orgId: string, count: number) => waitForStored(api, orgId, count, 60_000);

  /** Waits until the receiver holds every expected id, then checks order and redeliveries. */
  async function delivered(receiver: WebhookReceiver, expected: string[], timeoutMs = 60_000) {
    const check = await waitForDeliveries(receiver, expected, timeoutMs);
    expect(check.extra).toEqual([]);
    expect(check.missing).toEqual([]);
    // First deliveries come in seq order across batches too (one stream, one lane at a time).
    expect(check.firstOrder).toEqual(expected);
    return check;
  }

  it("delivers every entry, hidden types included, and only the matching ones to a filtered stream", {
    timeout: 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams", db);
    const all = await receiverFor();
    const deletes = await receiverFor();
    const hidden = await receiverFor();
    const allId = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: all.origin },
      secret: all.secret,
    });
    const deletesId = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: deletes.origin },
      secret: deletes.secret,
      query: "type:repo.delete",
    });
    const hiddenId = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: hidden.origin },
      secret: hidden.secret,
      query: "type:org.audit_log.*",
    });
    await ingest(apiKey, 1000);
    await stored(org.id, 1000);
    // The audit log's own (hidden) events, as the API records them.
    await insertRows(
      Array.from({ length: 5 }, () =>
        entryRow(org.id, { type: "org.audit_log.export", category: "org", hiddenByDefault: true }),
      ),
      api.isolated.url,
    );
    await ingest(apiKey, 500, 1000);
    await stored(org.id, 1505);

    const everything = await storedIds(pool, org.id);
    expect(everything).toHaveLength(1505);
    const a = await delivered(all, everything);
    const d = await delivered(deletes, await storedIds(pool, org.id, "type = 'repo.delete'"));
    const h = await delivered(hidden, await storedIds(pool, org.id, "hidden_by_default"));
    expect(h.unique).toBe(5);
    // The filtered streams' cursors moved over the entries they do not match, to the log's end.
    for (const id of [allId, deletesId, hiddenId]) {
      await waitFor(
        () => readStream(pool, id),
        (row) => row.delivered_seq === 1505 && row.lease_owner === null,
      );
    }
    const row = await readStream(pool, allId);
    expect(row.consecutive_failures).toBe(0);
    expect(row.last_success_at).not.toBeNull();
    // Batches are bounded by STREAM_BATCH_MAX_ENTRIES.
    expect(Math.max(...all.batches.map((b) => b.entries.length))).toBeLessThanOrEqual(100);
    console.log(
      `streams: all ${a.unique} (${all.batches.length} batches, ${a.redelivered} redelivered), repo.delete ${d.unique}, hidden ${h.unique}`,
    );
    await Promise.all([all.stop(), deletes.stop(), hidden.stop()]);
  });

  it("delivers a stream made through the API, and to its new URL once a PATCH changes it", {
    timeout: 120_000,
  }, async () => {
    // The other tests store their streams' rows directly; this one takes the admin's own path,
    // so the worker reads exactly what the API wrote (the type in its column, the secret sealed).
    const { org, apiKey } = await createOrgWithKey("team", "streams-api-made", db);
    const admin = await createMemberWithToken(org.slug, "admin", db);
    const first = await receiverFor();
    const second = await receiverFor();
    const call = async (method: "POST" | "PATCH", path: string, body: unknown) => {
      const response = await stack.app.request(`/v1/orgs/${org.slug}/streams${path}`, {
        method,
        headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
        body: JSON.stringify(body),
      });
      return { status: response.status, body: (await response.json()) as { id: string } };
    };
    const created = await call("POST", "", {
      name: "made by the API",
      destination: { type: "https", url: first.origin, signingSecret: first.secret },
      start: "now",
    });
    expect(created.status).toBe(201);
    const streamId = created.body.id;
    // The creation is recorded in the log (hidden, entry 1) with the stream: "now" takes it in.
    await ingest(apiKey, 300);
    await stored(org.id, 301);
    const before = await storedIds(pool, org.id);
    expect(before).toHaveLength(301);
    await delivered(first, before);
    await waitFor(
      () => readStream(pool, streamId),
      (row) => row.delivered_seq === 301,
    );

    const changed = await call("PATCH", `/${streamId}`, {
      destination: { type: "https", url: second.origin, signingSecret: second.secret },
    });
    expect(changed.status).toBe(200);
    await ingest(apiKey, 200, 300);
    // The change's own entry, and the 200 events.
    await stored(org.id, 502);
    const after = (await storedIds(pool, org.id)).slice(301);
    expect(after).toHaveLength(201);
    await delivered(second, after);
    expect(first.batches.flatMap((b) => b.entries).some((e) => after.includes(e.id))).toBe(false);
    await waitFor(
      () => readStream(pool, streamId),
      (row) => row.delivered_seq === 502,
    );
    expect((await readStream(pool, streamId)).last_error).toBeNull();
    await Promise.all([first.stop(), second.stop()]);
  });

  it(`keeps every entry through ${outageMs / 1000} s of 500s, then delivers them all`, {
    timeout: outageMs + 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-500", db);
    const outageEnds = Date.now() + outageMs;
    const receiver = await receiverFor();
    receiver.fail({ status: 500 });
    const recovery = setTimeout(() => receiver.recover(), Math.max(outageEnds - Date.now(), 0));
    const id = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: receiver.origin },
      secret: receiver.secret,
    });
    await ingest(apiKey, 1500);
    await stored(org.id, 1500);
    // Failing attempts are recorded, and the cursor stays where it was.
    const failing = await waitFor(
      () => readStream(pool, id),
      (row) => row.consecutive_failures >= 2,
    );
    expect(failing.delivered_seq).toBe(0);
    expect(failing.last_error).toContain("500");
    expect(failing.failing_since).not.toBeNull();
    expect(failing.next_attempt_at).not.toBeNull();
    // More events during the outage.
    await ingest(apiKey, 500, 1500);
    await stored(org.id, 2000);
    const check = await delivered(receiver, await storedIds(pool, org.id), outageMs + 60_000);
    clearTimeout(recovery);
    expect(refused(receiver)).toBeGreaterThan(1);
    const row = await waitFor(
      () => readStream(pool, id),
      (r) => r.delivered_seq === 2000,
    );
    expect(row.consecutive_failures).toBe(0);
    expect(row.failing_since).toBeNull();
    console.log(
      `streams: ${outageMs / 1000} s of 500s: ${refused(receiver)} refused requests, then ${check.unique} delivered, ${check.redelivered} redelivered`,
    );
    await receiver.stop();
  });

  it("keeps every entry while the receiver is down, and delivers once it is back on its port", {
    timeout: 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-down", db);
    const receiver = await receiverFor();
    const id = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: receiver.origin },
      secret: receiver.secret,
    });
    await ingest(apiKey, 300);
    await waitFor(
      () => readStream(pool, id),
      (row) => row.delivered_seq === 300,
    );
    await receiver.stop();
    await ingest(apiKey, 700, 300);
    await stored(org.id, 1000);
    const down = await waitFor(
      () => readStream(pool, id),
      (row) => row.consecutive_failures >= 2,
    );
    expect(down.delivered_seq).toBe(300);
    expect(down.last_error).toMatch(/retry/);
    await receiver.start();
    await delivered(receiver, await storedIds(pool, org.id));
    await receiver.stop();
  });

  it("delivers nothing while paused and everything after resume", {
    timeout: 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-pause", db);
    const receiver = await receiverFor();
    const id = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: receiver.origin },
      secret: receiver.secret,
    });
    await ingest(apiKey, 200);
    await waitFor(
      () => readStream(pool, id),
      (row) => row.delivered_seq === 200 && row.lease_owner === null,
    );
    await pool.query("UPDATE log_streams SET paused = true, updated_at = now() WHERE id = $1", [
      id,
    ]);
    const before = receiver.batches.length;
    await ingest(apiKey, 800, 200);
    await stored(org.id, 1000);
    // Several poll intervals and wake-ups pass: a paused stream is never claimed.
    worker.logger.info("paused stream test waiting");
    await new Promise((resolve) => setTimeout(resolve, 1500));
    expect(receiver.batches.length).toBe(before);
    expect((await readStream(pool, id)).delivered_seq).toBe(200);
    await pool.query("UPDATE log_streams SET paused = false, updated_at = now() WHERE id = $1", [
      id,
    ]);
    await delivered(receiver, await storedIds(pool, org.id));
    await receiver.stop();
  });

  it("backfills from seq 1 while new events arrive", { timeout: 120_000 }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-backfill", db);
    await ingest(apiKey, 3000);
    await stored(org.id, 3000);
    const receiver = await receiverFor();
    // `start: { seq: 1 }`: the API puts the cursor just before it.
    await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https", url: receiver.origin },
      secret: receiver.secret,
      deliveredSeq: 0,
    });
    await ingest(apiKey, 2000, 3000);
    await stored(org.id, 5000);
    const check = await delivered(receiver, await storedIds(pool, org.id));
    expect(check.unique).toBe(5000);
  });

  it("records a stored destination it cannot read as a failure, and moves nothing", {
    timeout: 60_000,
  }, async () => {
    // A row whose settings no longer parse (edited by hand, or left by an older version): the
    // stream fails and waits for an admin, it never skips its entries.
    const { org, apiKey } = await createOrgWithKey("team", "streams-bad-row", db);
    const receiver = await receiverFor();
    const id = await insertStream(pool, {
      orgId: org.id,
      destination: { type: "https" },
      secret: receiver.secret,
    });
    await ingest(apiKey, 20);
    await stored(org.id, 20);
    const row = await waitFor(
      () => readStream(pool, id),
      (r) => r.consecutive_failures >= 1,
    );
    expect(row.last_error).toBe("the stream's destination settings are not valid");
    expect(row.delivered_seq).toBe(0);
    expect(row.next_attempt_at).not.toBeNull();
    expect(receiver.batches).toHaveLength(0);
    await receiver.stop();
  });

  it("turns failing past STREAM_FAILING_AFTER_SECONDS, tells each admin once, and recovers", {
    timeout: 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-failing", db);
    const first = await createMemberWithToken(org.slug, "admin", db);
    const admins = [first.user, (await createMemberWithToken(org.slug, "admin", db)).user];
    const hookPath = `/hooks/${org.slug}`;
    const webhook = await stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
      method: "PUT",
      headers: { authorization: `Bearer ${first.token}`, "content-type": "application/json" },
      body: JSON.stringify({ url: hooks.url(hookPath) }),
    });
    expect(webhook.status).toBe(200);
    const hookSecret = ((await webhook.json()) as { secret: string }).secret;
    const hookPayloads = () =>
      hooks.received
        .filter((hook) => hook.path === hookPath)
        .map((hook) => {
          verifyStandardWebhook(hookSecret, hook.headers, hook.body);
          return webhookPayloadSchema.parse(JSON.parse(hook.body));
        });
    const reader = (await createMemberWithToken(org.slug, "read", db)).user;
    // 401: a bad token, which retrying alone does not fix; the stream still never skips.
    const receiver = await receiverFor();
    receiver.fail({ status: 401 });
    const id = await insertStream(pool, {
      orgId: org.id,
      name: "siem",
      destination: { type: "https", url: receiver.origin },
      secret: receiver.secret,
    });
    await ingest(apiKey, 300);
    const failing = await waitFor(
      () => readStream(pool, id),
      (row) => row.failing_notified_at !== null,
      60_000,
    );
    expect(failing.delivered_seq).toBe(0);
    expect(failing.last_error).toContain("401");
    const notifications = async (kind: string) =>
      (
        await pool.query<{ user_id: string; subject_id: string; title: string }>(
          "SELECT user_id, subject_id, title FROM notifications WHERE org_id = $1 AND kind = $2 ORDER BY user_id",
          [org.id, kind],
        )
      ).rows;
    // Told right after the failure that turned the stream failing was recorded.
    const told = await waitFor(
      () => notifications("stream.failing"),
      (rows) => rows.length >= 2,
    );
    expect(told.map((n) => n.user_id)).toEqual(admins.map((a) => a.id).sort());
    expect(told.every((n) => n.subject_id === id && n.title.includes("siem"))).toBe(true);
    // By email to each admin, and once to the organisation's webhook.
    const mails = await waitFor(
      async () => smtp.messages.filter((m) => m.raw.includes("siem") && m.raw.includes("failing")),
      (found) => found.length === 2,
    );
    expect(mails.flatMap((m) => m.to).sort()).toEqual(admins.map((a) => a.email).sort());
    const [failingHook] = await waitFor(
      async () => hookPayloads().filter((p) => p.type === "stream.failing"),
      (found) => found.length === 1,
    );
    expect(failingHook).toMatchObject({
      type: "stream.failing",
      data: {
        streamId: id,
        streamName: "siem",
        org: org.slug,
        destinationType: "https",
        behindBy: 300,
      },
    });
    expect(JSON.stringify(failingHook)).toContain("401");
    // Further failures tell no one again.
    const failures = failing.consecutive_failures;
    await waitFor(
      () => readStream(pool, id),
      (row) => row.consecutive_failures > failures + 1,
    );
    expect(await notifications("stream.failing")).toHaveLength(2);
    expect(told.some((n) => n.user_id === reader.id)).toBe(false);

    receiver.recover();
    await delivered(receiver, await storedIds(pool, org.id));
    const recovered = await waitFor(
      () => notifications("stream.recovered"),
      (rows) => rows.length === 2,
    );
    expect(recovered.map((n) => n.user_id)).toEqual(admins.map((a) => a.id).sort());
    await waitFor(
      async () => hookPayloads().filter((p) => p.type === "stream.recovered"),
      (found) => found.length === 1,
    );
    expect(hookPayloads().filter((p) => p.type === "stream.failing")).toHaveLength(1);
    const row = await readStream(pool, id);
    expect(row.failing_since).toBeNull();
    expect(row.failing_notified_at).toBeNull();
    await receiver.stop();
  });
});
