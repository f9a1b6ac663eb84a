import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { join } from "node:path";
import { createIsolatedTestDatabase, createTestPool } from "@auditlog/db/testing";
import type { Page } from "playwright-core";
import { Webhook } from "standardwebhooks";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { expectNoAxeViolations } from "./axe.ts";
import { openSignedIn, settingsUrl, startSettingsStack } from "./settings-console.ts";
import { type AdminOrg, repoRoot, type Stack } from "./stack.ts";

/**
 * A stream made in the console, delivered by the worker (issue 17), in a real Chromium against
 * the real stack: an admin creates an https stream that starts at entry #1 and keeps the signing
 * secret the page shows once; the receiver (started here, on 127.0.0.1) gets every entry of the
 * log in seq order, each batch signed with that secret as the Standard Webhooks library checks
 * it; pausing in the page holds deliveries (a second stream, never paused, receives what the
 * paused one must not: the worker had its passes) and resuming sends what came meanwhile; a receiver
 * that answers 503 for longer than the failing period turns the stream Failing in the page and
 * rings the bell, and once it answers again nothing is skipped and the page says the error is
 * over. The stack runs a streams worker, so it has a database of its own: on the shared test
 * database that worker would claim other test files' streams.
 * Screenshots: apps/web/e2e-artifacts/console-stream-delivery/.
 */

const artifacts = join(repoRoot, "apps/web/e2e-artifacts/console-stream-delivery");
const streamName = "SIEM collector";
const canaryName = "Canary";

/** What the receiver accepted (answered 2xx): each message's headers and body as sent. */
interface Delivery {
  headers: IncomingHttpHeaders;
  body: string;
}

interface Receiver {
  url: string;
  /** Messages answered 2xx, in arrival order. */
  accepted: Delivery[];
  /** Messages answered with `failWith` while it was set. */
  refused: number;
  /** A status every message gets instead of 204 (null: accept). */
  failWith: number | null;
  close(): Promise<void>;
}

async function startReceiver(): Promise<Receiver> {
  const receiver: Omit<Receiver, "url" | "close"> = { accepted: [], refused: 0, failWith: null };
  const server: Server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      if (receiver.failWith !== null) {
        receiver.refused++;
        response.writeHead(receiver.failWith).end("the receiver is down for the test");
        return;
      }
      receiver.accepted.push({
        headers: request.headers,
        body: Buffer.concat(chunks).toString("utf8"),
      });
      response.writeHead(204).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, {
    url: `http://127.0.0.1:${port}/audit`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  });
}

interface ReceivedEntry {
  id: string;
  seq: number;
}

/** The entries of every accepted message, in arrival order (redeliveries kept). */
function receivedEntries(receiver: Receiver): ReceivedEntry[] {
  return receiver.accepted.flatMap(
    (delivery) =>
      (JSON.parse(delivery.body) as { data: { entries: ReceivedEntry[] } }).data.entries,
  );
}

function repoEvents(count: number, label: string) {
  return Array.from({ length: count }, (_, i) => ({
    type: "repo.create",
    actor: { type: "user", id: "usr_alice", name: "alice" },
    target: { type: "model", id: `acme/${label}-${i}`, name: `acme/${label}-${i}` },
    data: { repo: { type: "model", name: `acme/${label}-${i}` } },
    context: { ip: "81.2.69.160", userAgent: "e2e-stream-delivery/1.0" },
  }));
}

describe("console: a stream made in the page delivers", () => {
  let stack: Stack;
  let page: Page;
  let dispose: () => Promise<void>;
  let orgSlug: string;
  let credentials: AdminOrg;
  let database: { url: string; drop(): Promise<void> };
  let pool: ReturnType<typeof createTestPool>;
  let receiver: Receiver;
  let secret: string;
  const shot = (name: string) => page.screenshot({ path: join(artifacts, `${name}.png`) });
  const row = () =>
    page.locator("tr", { has: page.locator("th", { hasText: streamName }) }).first();

  /** The organisation's entries as stored, in seq order. */
  const storedEntries = async (): Promise<ReceivedEntry[]> => {
    const { rows } = await pool.query<{ id: string; seq: string }>(
      `SELECT e.id, e.seq FROM audit_entries e JOIN organizations o ON o.id = e.org_id
       WHERE o.slug = $1 ORDER BY e.seq`,
      [orgSlug],
    );
    return rows.map((entry) => ({ id: entry.id, seq: Number(entry.seq) }));
  };

  /** Posts events with the organisation's key and waits until the worker has stored them. */
  const ingest = async (count: number, label: string) => {
    const before = (await storedEntries()).length;
    const posted = await fetch(`${stack.baseUrl}/v1/events`, {
      method: "POST",
      headers: { authorization: `Bearer ${credentials.key}`, "content-type": "application/json" },
      body: JSON.stringify({ events: repoEvents(count, label) }),
    });
    expect(posted.status, await posted.clone().text()).toBe(202);
    await expect
      .poll(async () => (await storedEntries()).length, { timeout: 60_000, interval: 250 })
      .toBeGreaterThanOrEqual(before + count);
  };

  /**
   * Until the receiver holds every stored entry, each once at least and in seq order once
   * redeliveries are set aside; at the deadline throws with the seqs received and the last stored.
   */
  const expectEverythingDelivered = async () => {
    const deadline = Date.now() + 90_000;
    for (;;) {
      const stored = await storedEntries();
      const received = receivedEntries(receiver);
      const firstSeen = received.filter(
        (entry, i) => received.findIndex((other) => other.id === entry.id) === i,
      );
      if (
        firstSeen.length === stored.length &&
        firstSeen.every((entry, i) => entry.id === stored[i]?.id && entry.seq === stored[i]?.seq)
      ) {
        // A redelivery repeats an entry already sent, never one the receiver has not seen.
        for (const entry of received) {
          expect(firstSeen.some((other) => other.id === entry.id && other.seq === entry.seq)).toBe(
            true,
          );
        }
        return stored;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `the receiver holds ${firstSeen.length} of ${stored.length} entries ` +
            `(received seqs ${firstSeen.map((entry) => entry.seq).join(",")}; stored up to ` +
            `${stored.at(-1)?.seq}):\n${stack.logs()}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  };

  /** Reloads the streams page until the stream's row says every one of `texts`. */
  const expectRowToSay = async (texts: string[], timeoutMs = 60_000) => {
    const deadline = Date.now() + timeoutMs;
    let text = "";
    for (;;) {
      await page.reload();
      await row().waitFor({ timeout: 30_000 });
      text = await row().innerText();
      if (texts.every((wanted) => text.includes(wanted))) return;
      if (Date.now() > deadline) {
        throw new Error(
          `the stream's row never said ${JSON.stringify(texts)}; it says: ${JSON.stringify(text)}`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  };

  /**
   * Creates an https stream in the page (from entry `fromSeq`, or from now) and returns the
   * signing secret the page shows once.
   */
  const createHttpsStream = async (name: string, url: string, fromSeq?: string) => {
    await page.goto(settingsUrl(stack, orgSlug, "streams"));
    await page.getByRole("region", { name: "Log streams" }).waitFor({ timeout: 60_000 });
    await page.getByLabel("HTTPS").check();
    await page.getByLabel("Name (required)").fill(name);
    await page.getByLabel("URL (required)", { exact: true }).fill(url);
    if (fromSeq !== undefined) await page.getByLabel("Start from entry # (optional)").fill(fromSeq);
    await page.getByRole("button", { name: "Create stream" }).click();
    const notice = page.getByRole("status", { name: "Signing secret" });
    await notice.waitFor({ timeout: 30_000 });
    const shown = await notice.locator("code.stream-secret").innerText();
    await notice.getByRole("button", { name: "I have stored it" }).click();
    return shown;
  };

  /** The lease of the stream named `name`: held while a worker's turn delivers it. */
  const leaseOwner = async (name: string) => {
    const { rows } = await pool.query<{ lease_owner: string | null }>(
      `SELECT s.lease_owner FROM log_streams s JOIN organizations o ON o.id = s.org_id
       WHERE o.slug = $1 AND s.name = $2`,
      [orgSlug, name],
    );
    if (rows.length !== 1)
      throw new Error(`expected one stream named ${name}, found ${rows.length}`);
    return rows[0]?.lease_owner ?? null;
  };

  /** Until `receiver` holds every one of `ids`; at the deadline throws naming the missing ones. */
  const expectReceived = async (target: Receiver, ids: string[]) => {
    const deadline = Date.now() + 60_000;
    for (;;) {
      const received = new Set(receivedEntries(target).map((entry) => entry.id));
      const missing = ids.filter((id) => !received.has(id));
      if (missing.length === 0) return;
      if (Date.now() > deadline) {
        throw new Error(`the receiver never got ${missing.join(", ")}:\n${stack.logs()}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  };

  beforeAll(async () => {
    database = await createIsolatedTestDatabase("e2e_streams");
    pool = createTestPool(database.url);
    receiver = await startReceiver();
    let admin: { email: string; password: string };
    ({ stack, orgSlug, admin, credentials } = await startSettingsStack({
      artifacts,
      slugPrefix: "delivery",
      orgName: "Acme Delivery",
      env: {
        DATABASE_URL: database.url,
        WORKER_ROLES: "ingest,notifications,streams",
        // The receiver listens on 127.0.0.1.
        WEBHOOK_ALLOW_LOCAL_URLS: "true",
        // Short periods, so the failing state and its recovery happen within the test.
        STREAM_FAILING_AFTER_SECONDS: "10",
        STREAM_RETRY_BASE_MS: "200",
        STREAM_RETRY_MAX_MS: "1000",
        STREAM_POLL_INTERVAL_MS: "200",
        STREAM_BATCH_MAX_WAIT_MS: "200",
        // Small batches, so the backfill is several messages.
        STREAM_BATCH_MAX_ENTRIES: "20",
      },
    }));
    ({ page, dispose } = await openSignedIn("stream-delivery", stack, admin, orgSlug));
  }, 240_000);

  afterAll(async () => {
    await dispose?.();
    await stack?.stop();
    await receiver?.close();
    await pool?.end();
    await database?.drop();
  });

  it("backfills from entry #1 and follows new entries, every batch signed with the secret shown once", async () => {
    await ingest(40, "before");
    secret = await createHttpsStream(streamName, receiver.url, "1");

    await ingest(25, "after");
    const stored = await expectEverythingDelivered();
    expect(stored.length).toBeGreaterThanOrEqual(65);
    expect(stored[0]?.seq).toBe(1);
    // Batches of at most 20 (STREAM_BATCH_MAX_ENTRIES), so the backfill took several messages.
    expect(receiver.accepted.length).toBeGreaterThanOrEqual(4);

    const signedWith = new Webhook(secret);
    const someOtherSecret = new Webhook(`whsec_${Buffer.alloc(32, 7).toString("base64")}`);
    for (const delivery of receiver.accepted) {
      const headers = {
        "webhook-id": String(delivery.headers["webhook-id"]),
        "webhook-timestamp": String(delivery.headers["webhook-timestamp"]),
        "webhook-signature": String(delivery.headers["webhook-signature"]),
      };
      const message = signedWith.verify(delivery.body, headers) as {
        type: string;
        data: { org: { slug: string }; entries: ReceivedEntry[] };
      };
      expect(message.type).toBe("audit_log.entries");
      expect(message.data.org.slug).toBe(orgSlug);
      // In seq order within the batch, which the message's id names.
      const seqs = message.data.entries.map((entry) => entry.seq);
      expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
      expect(headers["webhook-id"]).toMatch(new RegExp(`_${seqs[0]}-${seqs.at(-1)}$`));
      expect(() => someOtherSecret.verify(delivery.body, headers)).toThrow();
    }

    const last = stored.at(-1)?.seq ?? 0;
    await expectRowToSay(["Active", `Through #${last.toLocaleString("en-US")}`, "Caught up"]);
    expect(await row().innerText()).not.toContain("Never");
    await shot("delivered");
    await expectNoAxeViolations(page, "a delivering stream");
  });

  it("holds deliveries while paused in the page, and sends what came meanwhile on resume", async () => {
    // A second stream of the organisation, never paused, is the test's clock: once it has every
    // entry stored during the pause, and one more stored after those, the worker has had the
    // passes in which it would have sent them to the paused stream as well.
    const canary = await startReceiver();
    try {
      await createHttpsStream(canaryName, canary.url);
      await page.getByRole("button", { name: `Pause ${streamName}` }).click();
      await expect.poll(() => row().locator(".status").innerText()).toBe("Paused");
      // A turn claimed before the pause (for the pause's own record, say) may still send its
      // batch; once it has given the lease back, no turn may start while the stream is paused.
      await expect
        .poll(() => leaseOwner(streamName), { timeout: 30_000, interval: 100 })
        .toBeNull();
      const acceptedBefore = receiver.accepted.length;
      const storedBefore = (await storedEntries()).length;

      await ingest(15, "paused");
      const held = (await storedEntries()).slice(storedBefore).map((entry) => entry.id);
      expect(held.length).toBeGreaterThanOrEqual(15);
      await expectReceived(canary, held);
      const tickFrom = (await storedEntries()).length;
      await ingest(1, "tick");
      await expectReceived(
        canary,
        (await storedEntries()).slice(tickFrom).map((entry) => entry.id),
      );
      expect(receiver.accepted.length).toBe(acceptedBefore);
      const sent = new Set(receivedEntries(receiver).map((entry) => entry.id));
      expect(held.filter((id) => sent.has(id))).toEqual([]);
      await expectRowToSay(["Paused", "entries behind"]);
      await shot("paused");

      await page.getByRole("button", { name: `Resume ${streamName}` }).click();
      await expect.poll(() => row().locator(".status").innerText()).toBe("Active");
      await expectEverythingDelivered();
      expect(receiver.accepted.length).toBeGreaterThan(acceptedBefore);
      await expectRowToSay(["Active", "Caught up"]);

      await page.getByRole("button", { name: `Delete ${canaryName}` }).click();
      await page
        .getByRole("dialog", { name: "Delete stream" })
        .getByRole("button", { name: "Delete stream", exact: true })
        .click();
      await expect
        .poll(() => page.locator("th", { hasText: canaryName }).count(), { timeout: 30_000 })
        .toBe(0);
    } finally {
      await canary.close();
    }
  });

  it("turns Failing in the page and rings the bell while the receiver fails, then delivers everything once it answers", async () => {
    receiver.failWith = 503;
    await ingest(10, "outage");
    await expectRowToSay(["Failing", "Last error", "503"], 90_000);
    expect(receiver.refused).toBeGreaterThan(0);
    // Stored first, then on screen: a failure says whether the worker or the console fell short.
    const failingTitle = `Log stream "${streamName}" is failing`;
    await expect
      .poll(
        async () =>
          (
            await pool.query(
              "SELECT 1 FROM notifications n JOIN organizations o ON o.id = n.org_id WHERE o.slug = $1 AND n.title = $2",
              [orgSlug, failingTitle],
            )
          ).rowCount,
        { timeout: 60_000, message: "the failing notification was never stored" },
      )
      .toBeGreaterThan(0);
    const bell = page.getByRole("button", { name: /Notifications, \d+ unread/ });
    await bell.waitFor({ timeout: 60_000 });
    await bell.click();
    await page
      .locator(".notification.is-unread", { hasText: failingTitle })
      .waitFor({ timeout: 30_000 });
    await shot("failing");
    await expectNoAxeViolations(page, "a failing stream and its notification");
    await page.keyboard.press("Escape");

    receiver.failWith = null;
    await expectEverythingDelivered();
    await expectRowToSay(["Active", "Caught up", "delivered since", "503"]);
    await shot("recovered");
  });
});
