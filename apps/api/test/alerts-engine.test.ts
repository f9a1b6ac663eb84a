import { findAlertRule } from "@auditlog/db";
import {
  createIsolatedTestDatabase,
  createTestDatabase,
  createTestPool,
} from "@auditlog/db/testing";
import { newId, realtimeChannels, realtimeMessageSchema } from "@auditlog/events";
import { alertFiredWebhookPayloadSchema } from "@auditlog/events/jobs";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  startReceiver,
  startSlackReceiver,
  startSmtpServer,
  verifyStandardWebhook,
} from "./support/receivers.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  post,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * The alert engine (issue 17) end to end: events ingested through the API, stored by the
 * worker, matched by the alerts role and told on every channel: the console (stored
 * notification pushed live), email (SMTP), the org webhook (Standard Webhooks) and a
 * Slack-compatible incoming webhook, each a real receiver on 127.0.0.1.
 */
describe("alerts (two engines): a new matching entry fires once on every channel; bursts are grouped", () => {
  const redisUrl = process.env.REDIS_URL ?? "redis://127.0.0.1:6379";
  const subscriber = new Redis(redisUrl);
  const pushed: Array<{ at: number; message: unknown }> = [];
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  /** A second alerts engine on the same database and queues: no rule may fire twice. */
  let secondEngine: Awaited<ReturnType<typeof startTestWorker>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let hooks: Awaited<ReturnType<typeof startReceiver>>;
  let slack: Awaited<ReturnType<typeof startSlackReceiver>>;
  const consoleUrl = "https://console.example";

  // A database of its own: its engine acts on every stream or rule it finds (see
  // createIsolatedTestDatabase).
  let isolated: Awaited<ReturnType<typeof createIsolatedTestDatabase>>;
  let db: ReturnType<typeof createTestDatabase>;
  let pool: ReturnType<typeof createTestPool>;

  beforeAll(async () => {
    isolated = await createIsolatedTestDatabase("alerts");
    db = createTestDatabase(isolated.url);
    pool = createTestPool(isolated.url);
    stack = await startTestApi({
      DATABASE_URL: isolated.url,
      WEBHOOK_ALLOW_LOCAL_URLS: "true",
    });
    smtp = await startSmtpServer();
    hooks = await startReceiver({});
    slack = await startSlackReceiver({ "/flaky": [503, 503], "/refuses": [403] });
    await subscriber.subscribe(realtimeChannels.notifications);
    subscriber.on("message", (_channel, text) =>
      pushed.push({ at: Date.now(), message: JSON.parse(text) }),
    );
    worker = await startTestWorker(stack, {
      WORKER_ROLES: "ingest,notifications,alerts",
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_RETRY_BASE_MS: "50",
      WEBHOOK_ALLOW_LOCAL_URLS: "true",
      ALERT_POLL_INTERVAL_MS: "500",
      PUBLIC_URL: consoleUrl,
    });
    // Configured as the first one (a deployment's workers share their settings): whichever
    // engine fires a rule, the email goes out.
    secondEngine = await startTestWorker(stack, {
      WORKER_ROLES: "alerts",
      SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
      NOTIFY_RETRY_BASE_MS: "50",
      WEBHOOK_ALLOW_LOCAL_URLS: "true",
      ALERT_POLL_INTERVAL_MS: "500",
      PUBLIC_URL: consoleUrl,
    });
  });
  afterAll(async () => {
    await secondEngine?.stop();
    await worker?.stop();
    subscriber.disconnect();
    await smtp?.close();
    await hooks?.close();
    await slack?.close();
    await stack?.services.close();
    await pool?.end();
    await db?.close();
    await isolated?.drop();
  });

  async function api(
    path: string,
    token: string,
    init: { method?: "POST" | "PUT" | "GET"; body?: unknown } = {},
  ) {
    const response = await stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    return {
      status: response.status,
      body: (await response.json()) as Record<string, string | undefined>,
    };
  }

  async function orgWithRule(label: string, rule: Record<string, unknown>, webhookPath?: string) {
    const { org, apiKey } = await createOrgWithKey("team", label, db);
    const admin = await createMemberWithToken(org.slug, "admin", db);
    let secret = "";
    if (webhookPath) {
      const put = await api(`/v1/orgs/${org.slug}/webhook`, admin.token, {
        method: "PUT",
        body: { url: hooks.url(webhookPath) },
      });
      expect(put.status).toBe(200);
      secret = put.body.secret ?? "";
    }
    const created = await api(`/v1/orgs/${org.slug}/alerts`, admin.token, {
      method: "POST",
      body: rule,
    });
    expect(created.status).toBe(201);
    return { org, apiKey, admin, secret, ruleId: String(created.body.id) };
  }

  async function ingest(apiKey: string, events: unknown[]) {
    for (let i = 0; i < events.length; i += 100) {
      const response = await post(stack.app, apiKey, { events: events.slice(i, i + 100) });
      expect(response.status).toBe(202);
    }
  }

  const pushedFor = (ruleId: string) =>
    pushed.flatMap((p) => {
      const message = realtimeMessageSchema.parse(p.message);
      return message.event === "notification" && message.data.subjectId === ruleId
        ? [{ at: p.at, userId: message.userId, data: message.data }]
        : [];
    });

  it("tells the console, email, the org webhook and Slack within seconds of ingest (latency printed)", async () => {
    const q = "type:repo.create -author:scim-bot";
    const { org, apiKey, admin, secret, ruleId } = await orgWithRule(
      "alerts-fire",
      {
        name: "New repos",
        q,
        channels: { console: true, email: true, webhook: true, slackUrl: slack.url("/fire") },
        groupWindowSeconds: 300,
      },
      "/fire",
    );
    // Entries by scim-bot do not match; the next one does.
    await ingest(apiKey, [
      sampleEvent(1, { actor: { type: "user", id: "usr_scim", name: "scim-bot" } }),
    ]);
    const t0 = Date.now();
    await ingest(apiKey, [sampleEvent(2)]);

    const link = `/orgs/${org.slug}/audit-logs?q=${encodeURIComponent(q).replace(/%20/g, "+")}`;
    const live = await waitFor(
      async () => pushedFor(ruleId),
      (found) => found.length > 0,
    );
    const mails = await waitFor(
      async () => smtp.messages.filter((m) => m.raw.includes(org.slug)),
      (found) => found.length > 0,
    );
    const mailAt = Date.now();
    const webhook = await waitFor(
      async () => hooks.received.filter((r) => r.path === "/fire"),
      (found) => found.length > 0,
    );
    const posted = await waitFor(
      async () => slack.received.filter((r) => r.path === "/fire"),
      (found) => found.length > 0,
    );
    console.log(
      `alert latency ingest→message: console ${(live[0]?.at ?? 0) - t0} ms, email ≤ ${mailAt - t0} ms, ` +
        `webhook ${(webhook[0]?.at ?? 0) - t0} ms, slack ${(posted[0]?.at ?? 0) - t0} ms`,
    );

    // The console: one notification, with the link to the filtered log.
    expect(live).toHaveLength(1);
    expect(live[0]?.userId).toBe(admin.user.id);
    expect(live[0]?.data).toMatchObject({
      kind: "alert.fired",
      title: "Alert: New repos",
      link,
      orgSlug: org.slug,
    });
    expect(live[0]?.data.body).toContain("repo.create");
    expect(mails).toHaveLength(1);
    expect(mails[0]?.to).toEqual([admin.user.email]);
    expect(mails[0]?.raw).toContain("Alert: New repos");

    // The org webhook: signed, an alert.fired payload about the matching entry (seq 2).
    expect(webhook).toHaveLength(1);
    expect(verifyStandardWebhook(secret, webhook[0]?.headers ?? {}, webhook[0]?.body ?? "")).toBe(
      true,
    );
    const payload = alertFiredWebhookPayloadSchema.parse(JSON.parse(webhook[0]?.body ?? "{}"));
    expect(payload.data).toMatchObject({
      ruleId,
      ruleName: "New repos",
      org: org.slug,
      q,
      matched: 1,
      grouped: false,
      entry: { type: "repo.create" },
      link,
    });

    // Slack: application/json with a text (the receiver refuses anything else), an mrkdwn link.
    expect(posted).toHaveLength(1);
    expect(slack.refused).toEqual([]);
    expect(posted[0]?.text).toContain("*Alert: New repos*");
    expect(posted[0]?.text).toContain(`<${consoleUrl}${link}|Open the filtered log>`);

    const rule = await findAlertRule(stack.services.db, { orgId: org.id, id: ruleId });
    expect(rule?.lastFiredAt).toBeInstanceOf(Date);
    expect(rule?.evaluatedSeq).toBeGreaterThanOrEqual(payload.data.entry?.seq ?? Infinity);
    // The entry by scim-bot (stored just before) was not the one told.
    expect(payload.data.entry?.description).not.toContain("scim-bot");
  });

  it("does not fire for entries that do not match", async () => {
    const { org, apiKey, ruleId } = await orgWithRule(
      "alerts-quiet",
      {
        name: "Deletions",
        q: "type:repo.delete",
        channels: { console: true, slackUrl: slack.url("/quiet") },
      },
      undefined,
    );
    await ingest(
      apiKey,
      Array.from({ length: 20 }, (_, i) => sampleEvent(i)),
    );
    // The engine has read past every entry…
    await waitFor(
      () => findAlertRule(stack.services.db, { orgId: org.id, id: ruleId }),
      (rule) => (rule?.evaluatedSeq ?? 0) >= 20,
    );
    // …and sent nothing (the Slack job would have been queued in the same pass).
    await new Promise((resolve) => setTimeout(resolve, 500));
    expect(pushedFor(ruleId)).toEqual([]);
    expect(slack.attempts.filter((a) => a.path === "/quiet")).toEqual([]);
    expect(
      (await findAlertRule(stack.services.db, { orgId: org.id, id: ruleId }))?.lastFiredAt,
    ).toBeNull();
  });

  it("groups a burst of 500 matches into a bounded number of messages that count every match", async () => {
    const windowSeconds = 3;
    const { org, apiKey, ruleId } = await orgWithRule("alerts-burst", {
      name: "Burst",
      q: "type:repo.create",
      channels: { console: true, slackUrl: slack.url("/burst") },
      groupWindowSeconds: windowSeconds,
    });
    const started = Date.now();
    await ingest(
      apiKey,
      Array.from({ length: 500 }, (_, i) => sampleEvent(i)),
    );
    // Every entry stored and read by the rule: the span in which matches could open windows.
    await waitFor(
      () => findAlertRule(stack.services.db, { orgId: org.id, id: ruleId }),
      (rule) => (rule?.evaluatedSeq ?? 0) >= 500,
      60_000,
    );
    const spanMs = Date.now() - started;
    // Each window sends at most two messages (its first match, then "N more"); a window opens
    // at the first match after the previous one ended, so at most ⌈span / window⌉ + 1 open.
    const bound = 2 * (Math.ceil(spanMs / (windowSeconds * 1000)) + 1);

    const countOf = (text: string) => {
      const more = /([\d,]+) more match(?:es)? of Burst/.exec(text);
      return more ? Number(more[1]?.replace(/,/g, "")) : 1;
    };
    const messages = await waitFor(
      async () => slack.received.filter((r) => r.path === "/burst"),
      (found) => found.reduce((sum, m) => sum + countOf(m.text), 0) >= 500,
      60_000,
    );
    console.log(
      `burst of 500 matches: ${messages.length} Slack messages (bound ${bound}, span ${spanMs} ms, window ${windowSeconds} s)`,
    );
    expect(messages.reduce((sum, m) => sum + countOf(m.text), 0)).toBe(500);
    expect(messages.length).toBeLessThanOrEqual(bound);
    const grouped = messages.filter((m) => /more match/.test(m.text));
    expect(grouped.length).toBeGreaterThan(0);
    expect(grouped[0]?.text).toMatch(
      /^\*Alert: Burst\* in .+: [\d,]+ more matches of Burst \(type:repo\.create\)\n<https:\/\/console\.example\/orgs\/.+\/audit-logs\?q=type%3Arepo\.create\|See the [\d,]+ matches>$/,
    );
    // The console got the same messages, each with the link to the filtered log.
    const live = await waitFor(
      async () => pushedFor(ruleId),
      (found) => found.length >= messages.length,
    );
    expect(live).toHaveLength(messages.length);
    expect(live.some((p) => /more matches of Burst/.test(p.data.body))).toBe(true);
  });

  it("retries Slack with backoff until it answers 2xx, and gives up at once on a 4xx", async () => {
    const flaky = await orgWithRule("alerts-flaky", {
      name: "Flaky",
      q: "type:repo.create",
      channels: { console: false, slackUrl: slack.url("/flaky") },
    });
    const refusing = await orgWithRule("alerts-refuses", {
      name: "Refused",
      q: "type:repo.create",
      channels: { console: false, slackUrl: slack.url("/refuses") },
    });
    await ingest(flaky.apiKey, [sampleEvent(1)]);
    await ingest(refusing.apiKey, [sampleEvent(1)]);
    const delivered = await waitFor(
      async () => slack.received.filter((r) => r.path === "/flaky"),
      (found) => found.length > 0,
    );
    expect(delivered).toHaveLength(1);
    expect(slack.attempts.filter((a) => a.path === "/flaky")).toHaveLength(3);
    await waitFor(
      async () => slack.attempts.filter((a) => a.path === "/refuses").length,
      (n) => n > 0,
    );
    await new Promise((resolve) => setTimeout(resolve, 1000));
    // One attempt, no retry (the retry delay is 50 ms: a retry would have come by now).
    expect(slack.attempts.filter((a) => a.path === "/refuses")).toHaveLength(1);
    expect(slack.received.filter((r) => r.path === "/refuses")).toEqual([]);
    expect(newId("msg")).toMatch(/^msg_/);
  });
});
