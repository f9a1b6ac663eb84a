import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId, realtimeChannels, realtimeMessageSchema } from "@auditlog/events";
import { webhookPayloadSchema } from "@auditlog/events/jobs";
import { createLogger } from "@auditlog/observability";
import {
  loadWorkerEnv,
  type NotificationConsumers,
  startNotificationConsumers,
} from "@auditlog/worker";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startReceiver, startSmtpServer, verifyStandardWebhook } from "./support/receivers.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  startTestApi,
  testRedis,
  waitFor,
} from "./support/test-stack.ts";

/**
 * `notifyOrgAdmins` (issue 17): what concerns an organisation (an alert, a failing stream) is
 * told to every admin (stored notification + live push, email) and once to the org webhook.
 */
describe("notifyOrgAdmins: every admin of the organisation, and its webhook", () => {
  const queueName = `test-notify-admins-${newId("evt").slice(-12)}`;
  // The stack's Redis (a single Redis, or the cluster of REDIS_CLUSTER_NODES), as the worker opens it.
  const connection = testRedis("worker");
  const subscriber = testRedis("subscriber");
  const published: unknown[] = [];
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let consumers: NotificationConsumers;

  beforeAll(async () => {
    stack = await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "true" });
    smtp = await startSmtpServer();
    receiver = await startReceiver({});
    await subscriber.subscribe(realtimeChannels.notifications);
    subscriber.on("message", (_channel, message) => published.push(JSON.parse(message)));
    consumers = await startNotificationConsumers({
      env: loadWorkerEnv({
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        NOTIFY_QUEUE: queueName,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        NOTIFY_RETRY_BASE_MS: "50",
        WEBHOOK_ALLOW_LOCAL_URLS: "true",
        LOG_LEVEL: "error",
      }),
      db: stack.services.db,
      connection,
      logger: createLogger("test", "error"),
    });
  });
  afterAll(async () => {
    await consumers?.queue.obliterate({ force: true });
    await consumers?.close();
    connection.disconnect();
    subscriber.disconnect();
    await smtp?.close();
    await receiver?.close();
    await stack?.services.close();
  });

  async function orgWithAdmins(label: string, webhookPath?: string) {
    const { org } = await createOrgWithKey("team", label);
    const first = await createMemberWithToken(org.slug, "admin");
    const second = await createMemberWithToken(org.slug, "admin");
    const writer = await createMemberWithToken(org.slug, "write");
    let secret = "";
    if (webhookPath) {
      const response = await stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
        method: "PUT",
        headers: { authorization: `Bearer ${first.token}`, "content-type": "application/json" },
        body: JSON.stringify({ url: receiver.url(webhookPath) }),
      });
      expect(response.status).toBe(200);
      secret = ((await response.json()) as { secret: string }).secret;
    }
    return { org, admins: [first, second], writer, secret };
  }

  it("stores and pushes a notification per admin (not other members), emails each, and signs one webhook message", async () => {
    const { org, admins, writer, secret } = await orgWithAdmins("notify-admins", "/admins");
    const ruleId = newId("alr");
    const link = `/orgs/${org.slug}?q=${encodeURIComponent("type:org.change_role")}`;
    const result = await consumers.notifyOrgAdmins({
      orgId: org.id,
      kind: "alert.fired",
      title: "Alert: role changes",
      body: "org.change_role matched: alice changed bob's role",
      subjectId: ruleId,
      link,
      webhookPayload: {
        type: "alert.fired",
        timestamp: new Date().toISOString(),
        data: {
          ruleId,
          ruleName: "role changes",
          org: org.slug,
          q: "type:org.change_role",
          matched: 1,
          grouped: false,
          entry: {
            id: newId("evt"),
            seq: 7,
            type: "org.change_role",
            description: "alice changed bob's role",
            occurredAt: new Date().toISOString(),
          },
          link,
        },
      },
    });
    expect(result.notifications).toHaveLength(2);
    expect(result.emailsQueued).toBe(2);
    expect(result.webhookQueued).toBe(true);

    // Stored for each admin, listed by the API with the subject and link; nothing for the writer.
    for (const admin of admins) {
      const response = await stack.app.request("/v1/notifications", {
        headers: { authorization: `Bearer ${admin.token}` },
      });
      const { notifications } = (await response.json()) as {
        notifications: Array<{ kind: string; subjectId: string; link: string; orgSlug: string }>;
      };
      expect(notifications.filter((n) => n.subjectId === ruleId)).toEqual([
        expect.objectContaining({ kind: "alert.fired", link, orgSlug: org.slug }),
      ]);
    }
    const writerList = await stack.app.request("/v1/notifications", {
      headers: { authorization: `Bearer ${writer.token}` },
    });
    expect(JSON.stringify(await writerList.json())).not.toContain(ruleId);

    // Pushed live, addressed to each admin.
    const pushed = await waitFor(
      async () =>
        published
          .map((message) => realtimeMessageSchema.parse(message))
          .filter((m) => m.event === "notification" && m.data.subjectId === ruleId),
      (found) => found.length >= 2,
    );
    expect(pushed.map((m) => m.userId).sort()).toEqual(admins.map((a) => a.user.id).sort());

    // One email per admin.
    const mails = await waitFor(
      async () => smtp.messages.filter((m) => m.raw.includes(org.slug)),
      (found) => found.length >= 2,
    );
    expect(mails.flatMap((m) => m.to).sort()).toEqual(admins.map((a) => a.user.email).sort());
    expect(mails[0]?.raw).toMatch(/^Subject: \[auditlog\] Alert: role changes: /m);

    // One signed webhook message, an `alert.fired` payload.
    const hooks = await waitFor(
      async () => receiver.received.filter((r) => r.path === "/admins"),
      (found) => found.length >= 1,
    );
    expect(hooks).toHaveLength(1);
    const [hook] = hooks;
    if (!hook) throw new Error("no delivery");
    expect(hook.headers["webhook-id"]).toBe(result.noticeId);
    expect(verifyStandardWebhook(secret, hook.headers, hook.body)).toBe(true);
    const payload = webhookPayloadSchema.parse(JSON.parse(hook.body));
    expect(payload).toMatchObject({ type: "alert.fired", data: { ruleId, matched: 1, link } });
  });

  it("sends stream payloads too, and only the channels asked for", async () => {
    const { org, admins, secret } = await orgWithAdmins("notify-stream", "/streams");
    const streamId = newId("str");
    const result = await consumers.notifyOrgAdmins({
      orgId: org.id,
      kind: "stream.failing",
      title: "Stream failing",
      body: "siem has not delivered for 15 minutes",
      subjectId: streamId,
      link: `/orgs/${org.slug}/settings/streams`,
      channels: { console: true, email: false },
      webhookPayload: {
        type: "stream.failing",
        timestamp: new Date().toISOString(),
        data: {
          streamId,
          streamName: "siem",
          org: org.slug,
          destinationType: "splunk",
          failingSince: new Date(Date.now() - 900_000).toISOString(),
          lastError: "receiver answered 503",
          behindBy: 12,
          link: `/orgs/${org.slug}/settings/streams`,
        },
      },
    });
    expect(result.notifications).toHaveLength(admins.length);
    expect(result.emailsQueued).toBe(0);
    const hooks = await waitFor(
      async () => receiver.received.filter((r) => r.path === "/streams"),
      (found) => found.length >= 1,
    );
    expect(verifyStandardWebhook(secret, hooks[0]?.headers ?? {}, hooks[0]?.body ?? "")).toBe(true);
    expect(JSON.parse(hooks[0]?.body ?? "{}")).toMatchObject({
      type: "stream.failing",
      data: { streamId, behindBy: 12 },
    });
    expect(smtp.messages.some((m) => m.raw.includes(org.slug))).toBe(false);
  });

  it("queues no webhook message for an organisation without a webhook, and tells nobody of a removed organisation", async () => {
    const { org } = await orgWithAdmins("notify-nohook");
    const result = await consumers.notifyOrgAdmins({
      orgId: org.id,
      kind: "stream.recovered",
      title: "Stream recovered",
      body: "siem delivers again",
      subjectId: newId("str"),
      link: `/orgs/${org.slug}/settings/streams`,
      channels: { email: false },
      webhookPayload: {
        type: "stream.recovered",
        timestamp: new Date().toISOString(),
        data: {
          streamId: newId("str"),
          streamName: "siem",
          org: org.slug,
          destinationType: "https",
          failingSince: null,
          recoveredAt: new Date().toISOString(),
          link: `/orgs/${org.slug}/settings/streams`,
        },
      },
    });
    expect(result.notifications).toHaveLength(2);
    expect(result.webhookQueued).toBe(false);

    const gone = await consumers.notifyOrgAdmins({
      orgId: "org_000000000000000000000000",
      kind: "alert.fired",
      title: "x",
      body: "y",
      subjectId: newId("alr"),
      link: "/",
    });
    expect(gone).toMatchObject({ notifications: [], emailsQueued: 0, webhookQueued: false });
  });
});
