import { randomBytes } from "node:crypto";
import {
  createIsolatedTestDatabase,
  createTestDatabase,
  createTestPool,
} from "@auditlog/db/testing";
import { WebhookReceiver } from "@auditlog/streams/testing";
import { expect } from "vitest";
import { checkDeliveries, receivedBatches } from "./stream-fixtures.ts";
import { countEntries, post, sampleEvent, startTestApi, waitFor } from "./test-stack.ts";

/**
 * The set-up the log stream tests share: a database of their own (the stream engine acts on
 * every stream it finds, so none may be another file's; see createIsolatedTestDatabase), the API
 * on it with the rate limits out of the way, sample events posted through it, receivers started
 * with a fresh secret, and waits for what was stored and what was delivered.
 */

/** Stream batching and retry bounds short enough for each fault to play out in seconds. */
export const quickStreamWorkerEnv = {
  WORKER_ROLES: "ingest,streams",
  WEBHOOK_ALLOW_LOCAL_URLS: "true",
  STREAM_BATCH_MAX_ENTRIES: "100",
  STREAM_BATCH_MAX_WAIT_MS: "100",
  STREAM_POLL_INTERVAL_MS: "200",
  STREAM_RETRY_BASE_MS: "200",
  STREAM_RETRY_MAX_MS: "2000",
};

/** A database named after `name`, and the API on it; `close()` takes both down. */
export async function startStreamTestApi(name: string, env: Record<string, string> = {}) {
  const isolated = await createIsolatedTestDatabase(name);
  const db = createTestDatabase(isolated.url);
  const pool = createTestPool(isolated.url);
  const stack = await startTestApi({
    DATABASE_URL: isolated.url,
    USER_RATE_LIMIT: "1000000",
    INGEST_RATE_LIMIT: "1000000",
    ...env,
  });
  return {
    isolated,
    db,
    pool,
    stack,
    /** After the file's workers have stopped. */
    close: async () => {
      await stack.services.ingestQueue.obliterate({ force: true });
      await stack.services.close();
      await pool.end();
      await db.close();
      await isolated.drop();
    },
  };
}

type StreamTestApi = Awaited<ReturnType<typeof startStreamTestApi>>;

/**
 * Posts `count` sample events numbered from `from` (every third a repo.delete, so a filter on it
 * matches a known share), 500 a request; answers the accepted ids.
 */
export async function ingestSample(
  api: StreamTestApi,
  apiKey: string,
  count: number,
  from = 0,
): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 500) {
    const events = Array.from({ length: Math.min(500, count - start) }, (_, i) => {
      const n = from + start + i;
      return sampleEvent(n, n % 3 === 0 ? { type: "repo.delete" } : {});
    });
    const response = await post(api.stack.app, apiKey, { events });
    expect(response.status).toBe(202);
    ids.push(...((await response.json()) as { ids: string[] }).ids);
  }
  return ids;
}

/** Until the organisation's log holds `count` entries (the worker stored them). */
export function waitForStored(api: StreamTestApi, orgId: string, count: number, timeoutMs: number) {
  return waitFor(
    () => countEntries(orgId, api.isolated.url),
    (n) => n >= count,
    timeoutMs,
  );
}

/** A Standard Webhooks receiver with a fresh signing secret, started. */
export function startWebhookReceiver(): Promise<WebhookReceiver> {
  return new WebhookReceiver(`whsec_${randomBytes(24).toString("base64")}`).start();
}

/**
 * Waits until `receiver` holds every id of `expected` (throws at the deadline), then answers
 * what it holds against them: missing, extra, redelivered, the order of first deliveries.
 */
export async function waitForDeliveries(
  receiver: WebhookReceiver,
  expected: readonly string[],
  timeoutMs: number,
) {
  await waitFor(
    async () => checkDeliveries(receivedBatches(receiver.batches), expected),
    (check) => check.missing.length === 0,
    timeoutMs,
  );
  return checkDeliveries(receivedBatches(receiver.batches), expected);
}
