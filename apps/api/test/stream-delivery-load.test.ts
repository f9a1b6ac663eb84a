import type { ChildProcess } from "node:child_process";
import { randomBytes } from "node:crypto";
import {
  createIsolatedTestDatabase,
  createTestDatabase,
  createTestPool,
} from "@auditlog/db/testing";
import {
  DatadogIntakeReceiver,
  S3TestServer,
  SplunkHecReceiver,
  s3TestCredentials,
  WebhookReceiver,
} from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  checkDeliveries,
  insertStream,
  type ReceivedBatch,
  readStream,
  receivedBatches,
  storedIds,
} from "./support/stream-fixtures.ts";
import {
  countEntries,
  createOrgWithKey,
  post,
  sampleEvent,
  spawnTestWorker,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

/**
 * Issue 17: four streams, one per destination type (two filtered), run while 100,000 events are
 * ingested through the API; each receiver ends with exactly the matching ids. Then a worker
 * killed with SIGKILL mid-delivery: its lease expires and another worker delivers the rest.
 * Workers run in processes of their own (as deployed); receivers are real servers on 127.0.0.1
 * that check requests as the real services do (Standard Webhooks, HEC tokens, DD-API-KEY, S3
 * SigV4 through s3rver).
 */

const totalEvents = Number(process.env.STREAM_TEST_EVENTS ?? 100_000);
const eventsPerPost = 500;

const streamWorkerEnv = {
  WORKER_ROLES: "ingest,streams",
  WEBHOOK_ALLOW_LOCAL_URLS: "true",
  STREAM_POLL_INTERVAL_MS: "200",
  STREAM_RETRY_BASE_MS: "200",
  STREAM_RETRY_MAX_MS: "2000",
  // Short, so a killed worker's streams come back within seconds.
  STREAM_LEASE_MS: "6000",
  STREAM_DELIVERY_TIMEOUT_MS: "2000",
};

function exitOf(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => child.once("exit", () => resolve()));
}

describe("log streams under load and worker crashes", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let pool: ReturnType<typeof createTestPool>;
  const children: ChildProcess[] = [];

  // A database of its own: its engine acts on every stream or rule it finds (see
  // createIsolatedTestDatabase).
  let isolated: Awaited<ReturnType<typeof createIsolatedTestDatabase>>;
  let db: ReturnType<typeof createTestDatabase>;

  beforeAll(async () => {
    isolated = await createIsolatedTestDatabase("streams_load");
    db = createTestDatabase(isolated.url);
    pool = createTestPool(isolated.url);
    stack = await startTestApi({
      DATABASE_URL: isolated.url,
      USER_RATE_LIMIT: "1000000",
      INGEST_RATE_LIMIT: "1000000",
      INGEST_MAX_QUEUED_JOBS: "100000",
      REDIS_COMMAND_TIMEOUT_MS: "20000",
    });
  });
  afterAll(async () => {
    for (const child of children) if (child.exitCode === null) child.kill("SIGKILL");
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
    await pool.end();
    await db?.close();
    await isolated?.drop();
  });

  const spawnWorker = (extra: Record<string, string> = {}) => {
    const child = spawnTestWorker(stack, { ...streamWorkerEnv, ...extra });
    children.push(child);
    return child;
  };

  async function ingest(apiKey: string, count: number, label: string, from = 0) {
    let next = 0;
    const poster = async () => {
      for (let p = next++; p * eventsPerPost < count; p = next++) {
        const events = Array.from(
          { length: Math.min(eventsPerPost, count - p * eventsPerPost) },
          (_, i) => {
            const n = from + p * eventsPerPost + i;
            return sampleEvent(n, n % 3 === 0 ? { type: "repo.delete" } : {});
          },
        );
        const key = `${label}-${p}`;
        let response = await post(stack.app, apiKey, { events }, { "idempotency-key": key });
        for (let retry = 0; response.status === 503 && retry < 5; retry++) {
          response = await post(stack.app, apiKey, { events }, { "idempotency-key": key });
        }
        expect(response.status).toBe(202);
      }
    };
    await Promise.all(Array.from({ length: 3 }, poster));
  }

  it(`delivers ${totalEvents} events to https, Splunk, Datadog and S3, filtered or not`, {
    timeout: 1_800_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-load", db);
    const https = await new WebhookReceiver(`whsec_${randomBytes(24).toString("base64")}`).start();
    const splunkToken = randomBytes(16).toString("hex");
    const splunk = await new SplunkHecReceiver(splunkToken).start();
    const ddKey = randomBytes(16).toString("hex");
    const datadog = await new DatadogIntakeReceiver(ddKey).start();
    const s3 = await new S3TestServer(`audit-${randomBytes(4).toString("hex")}`).start();
    try {
      await insertStream(pool, {
        orgId: org.id,
        destination: { type: "https", url: `${https.origin}/hooks/audit` },
        secret: https.secret,
      });
      await insertStream(pool, {
        orgId: org.id,
        destination: { type: "splunk", url: splunk.origin, sourcetype: "auditlog" },
        secret: splunkToken,
        query: "type:repo.delete",
      });
      await insertStream(pool, {
        orgId: org.id,
        destination: {
          type: "datadog",
          site: "datadoghq.com",
          url: `${datadog.origin}/api/v2/logs`,
          service: "auditlog",
          ddsource: "auditlog",
        },
        secret: ddKey,
      });
      await insertStream(pool, {
        orgId: org.id,
        destination: {
          type: "s3",
          bucket: s3.bucket,
          prefix: "audit",
          region: "us-east-1",
          endpoint: s3.endpoint,
          forcePathStyle: true,
          accessKeyId: s3TestCredentials.accessKeyId,
        },
        secret: s3TestCredentials.secretAccessKey,
        query: "-author:user3",
      });
      const started = Date.now();
      // A lease and a timeout that a machine under load does not run out of mid-batch.
      const worker = spawnWorker({ STREAM_LEASE_MS: "30000", STREAM_DELIVERY_TIMEOUT_MS: "10000" });
      await ingest(apiKey, totalEvents, "load");
      await waitFor(
        () => countEntries(org.id, isolated.url),
        (n) => n === totalEvents,
        300_000,
      );
      const all = await storedIds(pool, org.id);
      const deletes = await storedIds(pool, org.id, "type = 'repo.delete'");
      const notUser3 = await storedIds(pool, org.id, "actor_name <> 'user3'");
      expect(all).toHaveLength(totalEvents);

      const s3Batches = async (): Promise<ReceivedBatch[]> =>
        receivedBatches(await s3.objects("audit/"));
      const until = async (
        name: string,
        read: () => Promise<ReceivedBatch[]>,
        expected: string[],
      ) => {
        const check = await waitFor(
          async () => checkDeliveries(await read(), expected),
          (c) => c.missing.length === 0,
          1_500_000,
        );
        expect(check.extra, name).toEqual([]);
        expect(check.firstOrder, name).toEqual(expected);
        return check;
      };
      const h = await until("https", async () => receivedBatches(https.batches), all);
      const sp = await until("splunk", async () => receivedBatches(splunk.batches), deletes);
      const dd = await until("datadog", async () => receivedBatches(datadog.batches), all);
      const o = await until("s3", s3Batches, notUser3);
      const seconds = (Date.now() - started) / 1000;
      console.log(
        `streams load: ${totalEvents} events in ${seconds.toFixed(1)} s; https ${h.unique}/${all.length} (${h.redelivered} redelivered, ${https.batches.length} batches), splunk type:repo.delete ${sp.unique}/${deletes.length} (${sp.redelivered} redelivered), datadog ${dd.unique}/${all.length} (${dd.redelivered} redelivered), s3 -author:user3 ${o.unique}/${notUser3.length} (${o.redelivered} redelivered)`,
      );
      // SIGTERM: drains (the in-flight batches finish) and exits.
      worker.kill("SIGTERM");
      await exitOf(worker);
    } finally {
      await Promise.all([https.stop(), splunk.stop(), datadog.stop(), s3.close()]);
    }
  });

  it("loses nothing when a worker is killed with SIGKILL mid-delivery", {
    timeout: 300_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "streams-kill", db);
    const receiver = await new WebhookReceiver(
      `whsec_${randomBytes(24).toString("base64")}`,
    ).start();
    try {
      const ingester = spawnWorker({ WORKER_ROLES: "ingest" });
      await ingest(apiKey, 20_000, "kill");
      await waitFor(
        () => countEntries(org.id, isolated.url),
        (n) => n === 20_000,
        120_000,
      );
      ingester.kill("SIGTERM");
      const id = await insertStream(pool, {
        orgId: org.id,
        destination: { type: "https", url: `${receiver.origin}/hooks` },
        secret: receiver.secret,
      });
      // Small batches, so the kill lands while batches are being read and sent.
      const first = spawnWorker({ WORKER_ROLES: "streams", STREAM_BATCH_MAX_ENTRIES: "50" });
      await waitFor(
        async () => receiver.batches.length,
        (n) => n >= 20,
        60_000,
      );
      first.kill("SIGKILL");
      await exitOf(first);
      const atKill = await readStream(pool, id);
      expect(atKill.delivered_seq).toBeLessThan(20_000);
      // The dead worker still holds the lease: nobody delivers until it expires.
      expect(atKill.lease_owner).not.toBeNull();
      spawnWorker({ WORKER_ROLES: "streams", STREAM_BATCH_MAX_ENTRIES: "50" });
      const expected = await storedIds(pool, org.id);
      const check = await waitFor(
        async () => checkDeliveries(receivedBatches(receiver.batches), expected),
        (c) => c.missing.length === 0,
        240_000,
      );
      expect(check.extra).toEqual([]);
      expect(check.firstOrder).toEqual(expected);
      console.log(
        `streams SIGKILL: killed at cursor ${atKill.delivered_seq}; ${check.unique} delivered, ${check.redelivered} redelivered after the restart`,
      );
    } finally {
      await receiver.stop();
    }
  });
});
