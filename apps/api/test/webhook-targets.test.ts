import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo } from "node:net";
import { upsertOrgWebhook } from "@auditlog/db";
import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { createLogger } from "@auditlog/observability";
import {
  type FinishedExport,
  loadWorkerEnv,
  type NotificationConsumers,
  startNotificationConsumers,
} from "@auditlog/worker";
import { forbidSystemDns, scriptedResolver } from "@auditlog/worker/testing";
import { Redis } from "ioredis";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loadApiEnv } from "../src/env.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

/** Names the tests resolve, through the injected resolver only (see forbidSystemDns). */
const dnsScript: Record<string, string[][]> = {
  "hooks.public.test": [["93.184.215.14", "2606:2800:21f:cb07:6820:80da:af6b:8b2c"]],
  "127.0.0.1.nip.io": [["127.0.0.1"]],
  "10.0.0.1.nip.io": [["10.0.0.1"]],
  "metadata.google.internal": [["169.254.169.254"]],
  "mixed.test": [["93.184.215.14", "10.1.2.3"]],
  "v6-private.test": [["fd12:3456::1"]],
};

describe("webhook URLs: what an organisation's webhook may point to", () => {
  const systemDns = forbidSystemDns();
  let strict: Stack;
  let lenient: Stack;
  let org: { id: string; slug: string };
  let admin: Awaited<ReturnType<typeof createMemberWithToken>>;

  beforeAll(async () => {
    const resolver = scriptedResolver(dnsScript);
    strict = await startTestApi(
      { WEBHOOK_ALLOW_LOCAL_URLS: "false" },
      { lookupHost: resolver.lookup },
    );
    lenient = await startTestApi(
      { WEBHOOK_ALLOW_LOCAL_URLS: "true" },
      { lookupHost: resolver.lookup },
    );
    ({ org } = await createOrgWithKey("team", "hook-targets"));
    admin = await createMemberWithToken(org.slug, "admin");
  });
  afterAll(async () => {
    await strict?.services.close();
    await lenient?.services.close();
    systemDns.restore();
  });

  async function put(stack: Stack, url: string) {
    const response = await stack.app.request(`/v1/orgs/${org.slug}/webhook`, {
      method: "PUT",
      headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
      body: JSON.stringify({ url }),
    });
    const body = (await response.json()) as {
      url?: string;
      error?: { code: string; details?: Array<{ path: string; message: string }> };
    };
    return { status: response.status, body };
  }

  it("refuses local URLs unless WEBHOOK_ALLOW_LOCAL_URLS turns them on, in the API and the worker", () => {
    expect(loadApiEnv({}).WEBHOOK_ALLOW_LOCAL_URLS).toBe(false);
    expect(loadWorkerEnv({}).WEBHOOK_ALLOW_LOCAL_URLS).toBe(false);
    expect(loadApiEnv({ WEBHOOK_ALLOW_LOCAL_URLS: "true" }).WEBHOOK_ALLOW_LOCAL_URLS).toBe(true);
    expect(loadWorkerEnv({ WEBHOOK_ALLOW_LOCAL_URLS: "1" }).WEBHOOK_ALLOW_LOCAL_URLS).toBe(true);
  });

  it.each([
    "https://8.8.8.8/hook",
    "https://1.1.1.1:8443/hook",
    "https://[2606:4700:4700::1111]/hook",
    "https://[64:ff9b::808:808]/hook",
    "https://[2002:808:808::1]/hook",
    "https://hooks.public.test/hook",
    // Unknown to DNS today: accepted, and checked again at every delivery.
    "https://not-yet-deployed.test/hook",
  ])("accepts the public target %s", async (url) => {
    const { status, body } = await put(strict, url);
    expect(status, JSON.stringify(body)).toBe(200);
    expect(body.url).toBe(new URL(url).href);
  });

  it.each([
    "http://127.0.0.1:6379/",
    "http://localhost:5432/",
    "https://localhost/hook",
    "https://hooks.localhost/hook",
    "https://127.0.0.1/hook",
    "https://10.0.0.1/hook",
    "https://172.16.5.4/hook",
    "https://192.168.1.10/hook",
    "https://100.64.1.1/hook",
    "https://0.0.0.0/hook",
    "https://[::1]/hook",
    "https://[fd00::1]/hook",
    "https://[::ffff:127.0.0.1]/hook",
    "https://[::ffff:10.0.0.1]/hook",
    "https://[::10.0.0.1]/hook",
    "https://[64:ff9b::a00:1]/hook",
    "https://[64:ff9b:1::808:808]/hook",
    "https://[2002:a00:1::1]/hook",
    "https://[2001:0:4136:e378:8000:63bf:f5ff:fffe]/hook",
    "https://127.0.0.1.nip.io/hook",
    "https://10.0.0.1.nip.io/hook",
    "https://v6-private.test/hook",
    "https://mixed.test/hook",
  ])("refuses the non-public target %s when local URLs are off", async (url) => {
    const { status, body } = await put(strict, url);
    expect(status, JSON.stringify(body)).toBe(400);
    expect(body.error?.code).toBe("validation_failed");
    expect(body.error?.details?.map((d) => d.path)).toEqual(["url"]);
  });

  it.each([
    "https://169.254.169.254/latest/meta-data/",
    "http://169.254.169.254/latest/meta-data/",
    "https://[fe80::1]/hook",
    "https://[fd00:ec2::254]/latest/meta-data/",
    "https://100.100.100.200/latest/meta-data/",
    "https://[::ffff:169.254.169.254]/",
    "https://[64:ff9b::a9fe:a9fe]/",
    "https://metadata.google.internal/computeMetadata/v1/",
  ])("refuses the link-local or metadata target %s even when local URLs are on", async (url) => {
    for (const stack of [lenient, strict]) {
      const { status, body } = await put(stack, url);
      expect(status, JSON.stringify(body)).toBe(400);
      expect(body.error?.details?.map((d) => d.path)).toEqual(["url"]);
    }
  });

  it.each([
    "http://127.0.0.1:6379/",
    "https://10.0.0.1/hook",
    "https://[fd00::1]/hook",
    "https://127.0.0.1.nip.io/hook",
  ])("accepts the local target %s when local URLs are on (development)", async (url) => {
    const { status, body } = await put(lenient, url);
    expect(status, JSON.stringify(body)).toBe(200);
  });

  it("asked the machine's own resolver nothing", () => {
    expect(systemDns.attempted).toEqual([]);
  });
});

interface Received {
  path: string;
  headers: IncomingHttpHeaders;
}

/** A receiver on 127.0.0.1 that records what reaches it and answers 200. */
async function startReceiver() {
  const received: Received[] = [];
  const server = createServer((req, res) => {
    req.resume();
    req.on("end", () => {
      received.push({ path: req.url ?? "/", headers: req.headers });
      res.writeHead(200).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    port,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

function finishedExport(orgId: string, requestedBy: string): FinishedExport {
  return {
    id: newId("exp"),
    orgId,
    requestedBy,
    format: "csv",
    status: "ready",
    rowsWritten: 1,
    fileSize: 10,
    error: null,
    query: "",
  };
}

describe("webhook deliveries: the worker checks the address it connects to", () => {
  const systemDns = forbidSystemDns();
  const connection = new Redis(process.env.REDIS_URL ?? "redis://127.0.0.1:6379", {
    maxRetriesPerRequest: null,
  });
  let stack: Stack;
  let receiver: Awaited<ReturnType<typeof startReceiver>>;
  const started: NotificationConsumers[] = [];

  beforeAll(async () => {
    receiver = await startReceiver();
  });
  afterAll(async () => {
    for (const consumers of started) {
      await consumers.queue.obliterate({ force: true });
      await consumers.close();
    }
    connection.disconnect();
    await receiver?.close();
    await stack?.services.close();
    systemDns.restore();
  });

  async function consumersFor(allowLocal: boolean, lookup: ReturnType<typeof scriptedResolver>) {
    stack ??= await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "false" });
    const consumers = await startNotificationConsumers({
      env: loadWorkerEnv({
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        NOTIFY_QUEUE: `test-notify-targets-${newId("evt").slice(-12)}`,
        NOTIFY_RETRY_BASE_MS: "50",
        WEBHOOK_ALLOW_LOCAL_URLS: allowLocal ? "true" : "false",
        LOG_LEVEL: "error",
      }),
      db: stack.services.db,
      connection,
      logger: createLogger("test", "error"),
      lookupHost: lookup.lookup,
    });
    started.push(consumers);
    return consumers;
  }

  /** Runs one export notification whose webhook delivery fails for good; answers its job. */
  async function failedDelivery(consumers: NotificationConsumers, orgId: string, userId: string) {
    const finished = finishedExport(orgId, userId);
    await consumers.onExportFinished(finished);
    return waitFor(
      async () => {
        const jobs = await consumers.queue.getJobs(["failed"]);
        return jobs.find((j) => j.data?.payload?.data?.exportId === finished.id);
      },
      (found) => found !== undefined,
    );
  }

  it("refuses, without retrying, a stored URL that the current rule refuses (set when local URLs were on)", async () => {
    const resolver = scriptedResolver({});
    const consumers = await consumersFor(false, resolver);
    const { org } = await createOrgWithKey("team", "hook-stored-local");
    const admin = await createMemberWithToken(org.slug, "admin");
    await upsertOrgWebhook(stack.services.db, {
      orgId: org.id,
      url: `http://127.0.0.1:${receiver.port}/stored-local`,
      candidateSecret: `whsec_${Buffer.alloc(32, 1).toString("base64")}`,
      rotateSecret: false,
    });
    const job = await failedDelivery(consumers, org.id, admin.user.id);
    expect(job?.attemptsMade).toBe(1);
    expect(job?.failedReason).toMatch(/webhook URL refused/);
    expect(receiver.received.filter((r) => r.path === "/stored-local")).toEqual([]);
  });

  it("refuses a name that resolved to a public address when set and to 127.0.0.1 at delivery (DNS rebinding)", async () => {
    const resolver = scriptedResolver({
      "rebind.test": [["93.184.215.14"], ["127.0.0.1"]],
    });
    const api = await startTestApi(
      { WEBHOOK_ALLOW_LOCAL_URLS: "false" },
      { lookupHost: resolver.lookup },
    );
    try {
      const consumers = await consumersFor(false, resolver);
      const { org } = await createOrgWithKey("team", "hook-rebind");
      const admin = await createMemberWithToken(org.slug, "admin");
      const set = await api.app.request(`/v1/orgs/${org.slug}/webhook`, {
        method: "PUT",
        headers: { authorization: `Bearer ${admin.token}`, "content-type": "application/json" },
        body: JSON.stringify({ url: `https://rebind.test:${receiver.port}/rebind` }),
      });
      expect(set.status).toBe(200);
      expect(resolver.calls).toEqual(["rebind.test"]);

      const job = await failedDelivery(consumers, org.id, admin.user.id);
      expect(job?.attemptsMade).toBe(1);
      expect(job?.failedReason).toMatch(/webhook URL refused/);
      // Resolved once more, at delivery, and nothing was sent anywhere.
      expect(resolver.calls).toEqual(["rebind.test", "rebind.test"]);
      expect(receiver.received.filter((r) => r.path === "/rebind")).toEqual([]);
    } finally {
      await api.services.close();
    }
  });

  it("connects to exactly the address it checked, keeping the name in Host", async () => {
    // A second question would get 127.0.0.2, where nothing listens: the delivery would fail.
    const resolver = scriptedResolver({ localhost: [["127.0.0.1"], ["127.0.0.2"]] });
    const consumers = await consumersFor(true, resolver);
    const { org } = await createOrgWithKey("team", "hook-checked");
    const admin = await createMemberWithToken(org.slug, "admin");
    await upsertOrgWebhook(stack.services.db, {
      orgId: org.id,
      url: `http://localhost:${receiver.port}/checked`,
      candidateSecret: `whsec_${Buffer.alloc(32, 2).toString("base64")}`,
      rotateSecret: false,
    });
    await consumers.onExportFinished(finishedExport(org.id, admin.user.id));
    const hits = await waitFor(
      async () => receiver.received.filter((r) => r.path === "/checked"),
      (found) => found.length > 0,
    );
    expect(hits).toHaveLength(1);
    expect(resolver.calls).toEqual(["localhost"]);
    expect(hits[0]?.headers.host).toBe(`localhost:${receiver.port}`);
  });

  it("asked the machine's own resolver nothing", () => {
    expect(systemDns.attempted).toEqual([]);
  });
});
