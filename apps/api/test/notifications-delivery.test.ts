import { findOrgWebhook } from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase, testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { exportWebhookPayloadSchema } from "@auditlog/events/jobs";
import { createLogger } from "@auditlog/observability";
import {
  type FinishedExport,
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

const retryBaseMs = 50;

function finishedExport(orgId: string, requestedBy: string): FinishedExport {
  return {
    id: newId("exp"),
    orgId,
    requestedBy,
    format: "csv",
    status: "ready",
    rowsWritten: 42,
    fileSize: 2048,
    error: null,
    query: "",
  };
}

describe("notification deliveries: email over SMTP and signed webhooks with retries", () => {
  const queueName = `test-notify-delivery-${newId("evt").slice(-12)}`;
  const testDb = createTestDatabase();
  const { prisma } = driversOf(testDb);
  // The stack's Redis (a single Redis, or the cluster of REDIS_CLUSTER_NODES), as the worker opens it.
  const connection = testRedis("worker");
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let smtp: Awaited<ReturnType<typeof startSmtpServer>>;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  let consumers: NotificationConsumers;
  const scripts: Record<string, number[]> = {
    "/flaky": [500, 500],
    "/reject": [400],
    "/gone": [410],
  };

  beforeAll(async () => {
    // The receiver listens on 127.0.0.1: local webhook URLs are turned on, in the API and the worker.
    stack = await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "true" });
    smtp = await startSmtpServer();
    receiver = await startReceiver(scripts);
    consumers = await startNotificationConsumers({
      env: loadWorkerEnv({
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        NOTIFY_QUEUE: queueName,
        SMTP_URL: `smtp://127.0.0.1:${smtp.port}`,
        SMTP_FROM: "auditlog <noreply@auditlog.test>",
        NOTIFY_RETRY_BASE_MS: String(retryBaseMs),
        WEBHOOK_TIMEOUT_MS: "10000",
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
    await smtp?.close();
    await receiver?.close();
    await stack?.services.close();
    await testDb.close();
  });

  /** Sets the organisation's webhook through the API, as its admin. */
  async function putWebhook(orgSlug: string, token: string, path: string) {
    const response = await stack.app.request(`/v1/orgs/${orgSlug}/webhook`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify({ url: receiver.url(path) }),
    });
    expect(response.status).toBe(200);
    return (await response.json()) as { secret: string; enabled: boolean };
  }

  /** An organisation with an admin and, when `path` is given, a webhook set through the API. */
  async function orgWithWebhook(label: string, path?: string) {
    const { org } = await createOrgWithKey("team", label);
    const admin = await createMemberWithToken(org.slug, "admin");
    if (!path) return { org, admin, secret: "" };
    const { secret } = await putWebhook(org.slug, admin.token, path);
    return { org, admin, secret };
  }

  async function notificationIdOf(exportId: string): Promise<string> {
    const row = await prisma.notification.findFirst({ where: { exportId } });
    if (!row) throw new Error(`no notification for ${exportId}`);
    return row.id;
  }

  it("emails the requester, with the export id, when SMTP is configured", async () => {
    const { org, admin } = await orgWithWebhook("notify-mail");
    const finished = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(finished);
    const messages = await waitFor(
      async () => smtp.messages.filter((m) => m.raw.includes(finished.id)),
      (found) => found.length > 0,
    );
    expect(messages).toHaveLength(1);
    const [mail] = messages;
    expect(mail?.to).toEqual([admin.user.email]);
    expect(mail?.from).toBe("noreply@auditlog.test");
    expect(mail?.raw).toMatch(/^Subject: \[auditlog\] Export ready: /m);
    expect(mail?.raw).toContain(org.slug);
    // No webhook configured for this organisation: nothing was sent to any receiver.
    expect(receiver.received.some((r) => r.body.includes(finished.id))).toBe(false);
  });

  it("signs each webhook delivery so the receiver can verify it with the secret PUT returned", async () => {
    const { org, admin, secret } = await orgWithWebhook("notify-hook", "/ok");
    const finished = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(finished);
    const hooks = await waitFor(
      async () => receiver.received.filter((r) => r.path === "/ok" && r.body.includes(finished.id)),
      (found) => found.length > 0,
    );
    const [hook] = hooks;
    if (!hook) throw new Error("no delivery");
    expect(hook.headers["content-type"]).toBe("application/json");
    expect(hook.headers["webhook-id"]).toBe(await notificationIdOf(finished.id));
    expect(hook.headers["webhook-signature"]).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    expect(verifyStandardWebhook(secret, hook.headers, hook.body)).toBe(true);

    const payload = exportWebhookPayloadSchema.parse(JSON.parse(hook.body));
    expect(payload).toEqual({
      type: "export.ready",
      timestamp: expect.any(String),
      data: {
        exportId: finished.id,
        org: org.slug,
        format: "csv",
        status: "ready",
        rowsWritten: 42,
        fileSize: 2048,
        error: null,
      },
    });

    // Anything tampered with fails verification: the body, the id, the timestamp, the secret.
    const tamperedBody = hook.body.replace('"rowsWritten":42', '"rowsWritten":43');
    expect(tamperedBody).not.toBe(hook.body);
    expect(verifyStandardWebhook(secret, hook.headers, tamperedBody)).toBe(false);
    expect(
      verifyStandardWebhook(secret, { ...hook.headers, "webhook-id": "ntf_other" }, hook.body),
    ).toBe(false);
    const laterTimestamp = String(Number(hook.headers["webhook-timestamp"]) + 1);
    expect(
      verifyStandardWebhook(
        secret,
        { ...hook.headers, "webhook-timestamp": laterTimestamp },
        hook.body,
      ),
    ).toBe(false);
    const signature = String(hook.headers["webhook-signature"]);
    const flipped = `${signature.slice(0, 5)}${signature[5] === "A" ? "B" : "A"}${signature.slice(6)}`;
    expect(
      verifyStandardWebhook(secret, { ...hook.headers, "webhook-signature": flipped }, hook.body),
    ).toBe(false);
    const otherSecret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;
    expect(verifyStandardWebhook(otherSecret, hook.headers, hook.body)).toBe(false);
  });

  it("retries a failing receiver with exponential backoff, same webhook-id, until it answers 2xx", async () => {
    const { org, admin, secret } = await orgWithWebhook("notify-flaky", "/flaky");
    const finished = finishedExport(org.id, admin.user.id);
    const completed = new Promise<{ attemptsMade: number }>((resolve) => {
      consumers.worker?.on("completed", (job) => {
        if (job.data?.payload?.data?.exportId === finished.id) resolve(job);
      });
    });
    await consumers.onExportFinished(finished);
    const job = await completed;
    const attempts = receiver.received.filter(
      (r) => r.path === "/flaky" && r.body.includes(finished.id),
    );
    expect(attempts).toHaveLength(3);
    expect(job.attemptsMade).toBe(3);
    const id = await notificationIdOf(finished.id);
    for (const attempt of attempts) {
      expect(attempt.headers["webhook-id"]).toBe(id);
      expect(attempt.body).toBe(attempts[0]?.body);
      expect(verifyStandardWebhook(secret, attempt.headers, attempt.body)).toBe(true);
    }
    // Backoff: each retry waits at least the doubling delay (lower bounds only).
    const [one, two, three] = attempts.map((a) => a.at);
    expect((two ?? 0) - (one ?? 0)).toBeGreaterThanOrEqual(retryBaseMs - 5);
    expect((three ?? 0) - (two ?? 0)).toBeGreaterThanOrEqual(2 * retryBaseMs - 5);
    const stored = await consumers.queue.getJob(`webhook-${id}`);
    expect(stored).toBeUndefined(); // removed on completion
  });

  it("does not retry a receiver that rejects the message with a 4xx", async () => {
    const { org, admin } = await orgWithWebhook("notify-reject", "/reject");
    const finished = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(finished);
    const id = await notificationIdOf(finished.id);
    const job = await waitFor(
      () => consumers.queue.getJob(`webhook-${id}`),
      (found) => found?.finishedOn !== undefined && found.failedReason !== undefined,
    );
    expect(await job?.getState()).toBe("failed");
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/rejected the message \(400\)/);
    expect(job?.opts.attempts).toBe(8);
    expect(job?.opts.backoff).toEqual({ type: "exponential", delay: retryBaseMs });
    expect(
      receiver.received.filter((r) => r.path === "/reject" && r.body.includes(finished.id)),
    ).toHaveLength(1);
  });

  it("disables the webhook when the receiver answers 410, without retrying, and queues no delivery until it is set again", async () => {
    const { org, admin } = await orgWithWebhook("notify-gone", "/gone");
    const deliveriesOf = (exportId: string) =>
      receiver.received.filter((r) => r.path === "/gone" && r.body.includes(exportId));

    const first = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(first);
    const firstId = await notificationIdOf(first.id);
    const job = await waitFor(
      () => consumers.queue.getJob(`webhook-${firstId}`),
      (found) => found?.finishedOn !== undefined,
    );
    // Failed for good after its one attempt: a 410 is not retried.
    expect(await job?.getState()).toBe("failed");
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/410 Gone; webhook disabled/);
    expect(deliveriesOf(first.id)).toHaveLength(1);
    const disabled = await findOrgWebhook(stack.services.db, org.id);
    expect(disabled?.disabledAt).toBeInstanceOf(Date);
    const shown = await stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });
    expect(await shown.json()).toMatchObject({ enabled: false, disabledAt: expect.any(String) });

    // A later export still notifies the requester, but queues no webhook delivery.
    const second = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(second);
    const secondId = await notificationIdOf(second.id);
    expect(await consumers.queue.getJob(`webhook-${secondId}`)).toBeUndefined();

    // Setting the webhook again (same URL) enables it: the next export is delivered.
    expect(await putWebhook(org.slug, admin.token, "/gone")).toMatchObject({ enabled: true });
    expect((await findOrgWebhook(stack.services.db, org.id))?.disabledAt).toBeNull();
    const third = finishedExport(org.id, admin.user.id);
    await consumers.onExportFinished(third);
    expect(
      await waitFor(
        async () => deliveriesOf(third.id).length,
        (n) => n > 0,
      ),
    ).toBe(1);
    // The export finished while the webhook was disabled was never sent, then or later.
    expect(deliveriesOf(second.id)).toHaveLength(0);
    expect(deliveriesOf(first.id)).toHaveLength(1);
  });
});
