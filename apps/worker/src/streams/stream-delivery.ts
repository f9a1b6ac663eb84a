import { randomUUID } from "node:crypto";
import { hostname } from "node:os";
import { performance } from "node:perf_hooks";
import {
  type ClaimedStream,
  claimDueStreams,
  countActiveStreamsByOrg,
  type Database,
  readLogSize,
  recordStreamFailure,
  releaseStreamLease,
  type SecretBox,
} from "@auditlog/db";
import {
  entriesStoredMessageSchema,
  type ParsedQuery,
  parseQuery,
  realtimeChannels,
  type StreamEntry,
  streamDestinationSchema,
} from "@auditlog/events";
import type { HostLookup } from "@auditlog/events/webhooks";
import type { Logger } from "@auditlog/observability";
import type { RedisConnection } from "@auditlog/redis";
import type { CreateDestinationSender, DeliveryOutcome } from "@auditlog/streams";
import { createCursorAdvancer } from "./cursor-advancer.ts";
import { streamRetryDelay } from "./retry-delay.ts";
import { createSharedEntryWindow } from "./shared-entry-window.ts";
import type { StreamStateNotifier } from "./stream-notifier.ts";

// Why a plain loop with leases in PostgreSQL, not a BullMQ job per stream: a stream is a
// cursor that moves forever, not a unit of work that finishes. Its state (cursor, failure
// streak, next attempt) must live in its row anyway, for the API to show lag and state and
// for `delivered_seq` to advance only with the receiver's answer; a job would duplicate it in
// Redis and need its own exclusivity (a stream must be sent by one worker at a time, in order),
// which the row's lease already gives with one UPDATE … FOR UPDATE SKIP LOCKED. Redis is then
// only a doorbell (stored-entries messages): losing it delays a delivery by one poll interval
// and loses nothing, and a dead worker's streams come back when its lease expires.

export interface StreamDeliveryConfig {
  concurrency: number;
  batchMaxEntries: number;
  batchMaxBytes: number;
  batchMaxWaitMs: number;
  pollIntervalMs: number;
  retryBaseMs: number;
  retryMaxMs: number;
  leaseMs: number;
  deliveryTimeoutMs: number;
  failingAfterSeconds: number;
  /** WEBHOOK_ALLOW_LOCAL_URLS: the address rule of webhooks applies to streams too. */
  allowLocal: boolean;
  /** Seqs one read examines at most (a rare filter's bounded scan); 50,000 by default. */
  scanWindow?: number;
  /**
   * The shared read (see shared-entry-window.ts): seqs per chunk (2,000), the bound on rendered
   * entries held for all organisations (64 MiB), and a chunk's age before it is read again (60 s).
   */
  sharedReadChunkEntries?: number;
  sharedReadMaxBytes?: number;
  sharedReadMaxAgeMs?: number;
}

export interface StreamDeliveryDeps {
  db: Database;
  /** A connection of its own: once subscribed, ioredis takes no other command on it. */
  subscriber: RedisConnection;
  secrets: SecretBox;
  createSender: CreateDestinationSender;
  notify: StreamStateNotifier;
  logger: Logger;
  config: StreamDeliveryConfig;
  lookup?: HostLookup;
  /** This process's name in `lease_owner`; unique per start by default. */
  owner?: string;
}

/** Margin kept between a batch's deadline and the lease's end. */
const leaseMarginMs = 2000;

/**
 * The `streams` role: claims due streams (woken by stored-entries messages, and every poll
 * interval as the safety net) and delivers each in batches until it is caught up, fails, or its
 * lease nears its end. `close` (SIGTERM) lets in-flight batches finish (each is bounded by the
 * delivery timeout); a batch that does not finish moves no cursor and is sent again later.
 */
export async function startStreamDelivery(deps: StreamDeliveryDeps) {
  const { db, logger, config } = deps;
  if (config.leaseMs < config.deliveryTimeoutMs + leaseMarginMs * 2) {
    throw new Error(
      `STREAM_LEASE_MS (${config.leaseMs}) must exceed STREAM_DELIVERY_TIMEOUT_MS (${config.deliveryTimeoutMs}) by at least ${leaseMarginMs * 2} ms: a batch must end before its lease does`,
    );
  }
  const owner = deps.owner ?? `${hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const scanWindow = config.scanWindow ?? 50_000;
  // Streams of one organisation whose cursors lie in the same range share one read and one
  // rendering of their entries by PostgreSQL, instead of one each.
  const sharedRead = createSharedEntryWindow({
    chunkEntries: config.sharedReadChunkEntries ?? 2000,
    maxBytes: config.sharedReadMaxBytes ?? 64 * 1024 * 1024,
    maxAgeMs: config.sharedReadMaxAgeMs ?? 60_000,
    // An erased text may still leave in the batch in flight; a second is of the same order.
    erasureCheckMs: 1000,
    scanWindow,
  });
  // The cursor moves of this process's streams, those of a moment in one statement.
  const advanceCursor = createCursorAdvancer(db, owner);
  const running = new Map<string, Promise<void>>();
  // Turns running in this process, by organisation (the doorbell's filter below).
  const runningByOrg = new Map<string, number>();
  const closing = new AbortController();
  let closed = false;

  // A pass claims as many due streams as there are free lanes. Wakes during a pass ask for
  // one more pass after it, never a second one at once.
  let passing: Promise<void> | undefined;
  let wakeAgain = false;
  const wake = () => {
    if (closed) return;
    if (passing) {
      wakeAgain = true;
      return;
    }
    passing = pass()
      .catch((error) => {
        logger.error("stream delivery pass failed; retrying at the next poll", {
          error: (error as Error).message,
        });
      })
      .finally(() => {
        passing = undefined;
        if (wakeAgain) {
          wakeAgain = false;
          wake();
        }
      });
  };

  const pass = async () => {
    const free = config.concurrency - running.size;
    if (free <= 0) return;
    const claimed = await claimDueStreams(db, {
      owner,
      leaseMs: config.leaseMs,
      limit: free,
      exclude: [...running.keys()],
    });
    for (const stream of claimed) {
      const turn = deliverTurn(stream)
        .catch((error) => {
          logger.error("stream delivery turn failed", {
            streamId: stream.id,
            error: (error as Error).message,
          });
          return "done" as const;
        })
        .then(async (result) => {
          // Every path gives the lease back, unless a failure was recorded (it released it).
          if (result !== "failed") {
            await releaseStreamLease(db, { streamId: stream.id, owner }).catch(() => {});
          }
          return result;
        })
        .finally(() => {
          running.delete(stream.id);
          const left = (runningByOrg.get(stream.orgId) ?? 1) - 1;
          if (left > 0) runningByOrg.set(stream.orgId, left);
          else runningByOrg.delete(stream.orgId);
        })
        .then((result) => {
          // More to do (the turn ended on its lease, or another stream waits for a lane).
          if (result === "more" || claimed.length === free) wake();
        });
      running.set(stream.id, turn);
      runningByOrg.set(stream.orgId, (runningByOrg.get(stream.orgId) ?? 0) + 1);
    }
  };

  type TurnResult = "done" | "more" | "failed";

  /** One claimed stream's turn: batches until caught up, failed, or out of lease. */
  const deliverTurn = async (stream: ClaimedStream): Promise<TurnResult> => {
    let cursor = stream.deliveredSeq;
    const about = {
      id: stream.id,
      name: stream.name,
      orgId: stream.orgId,
      orgSlug: stream.orgSlug,
      destinationType: stream.destinationType,
    };
    const fail = async (reason: string, outcome?: DeliveryOutcome): Promise<TurnResult> => {
      const retryAfterMs = outcome?.kind === "retry" ? outcome.retryAfterMs : undefined;
      const retryInMs = streamRetryDelay({
        consecutiveFailures: stream.consecutiveFailures + 1,
        baseMs: config.retryBaseMs,
        maxMs: config.retryMaxMs,
        ...(retryAfterMs !== undefined ? { retryAfterMs } : {}),
      });
      const recorded = await recordStreamFailure(db, {
        streamId: stream.id,
        owner,
        error: reason,
        retryInMs,
        failingAfterSeconds: config.failingAfterSeconds,
      });
      logger.warn("stream delivery failed; retrying later", {
        streamId: stream.id,
        orgId: stream.orgId,
        reason,
        retryInMs,
        consecutiveFailures: recorded?.consecutiveFailures,
      });
      if (recorded?.notifyFailing) {
        const behindBy = await readLogSize(db, stream.orgId)
          .then((size) => Math.max(size - cursor, 0))
          .catch(() => null);
        await deps
          .notify({
            kind: "stream.failing",
            stream: about,
            lastError: reason,
            failingSince: recorded.failingSince,
            behindBy,
          })
          .catch((error) =>
            logger.error("stream failing notification not sent", {
              streamId: stream.id,
              error: (error as Error).message,
            }),
          );
      }
      return "failed";
    };

    const destination = streamDestinationSchema.safeParse(stream.destination);
    if (!destination.success) return fail("the stream's destination settings are not valid");
    const parsed = parseQuery(stream.query);
    if (!parsed.ok) return fail(`the stream's query is not valid: ${parsed.error.message}`);
    let secret: string | null = null;
    if (stream.secretSealed) {
      try {
        secret = deps.secrets.open(stream.secretSealed);
      } catch {
        // Never the sealed text nor the key in the message: only that it cannot be opened.
        return fail("the destination's secret cannot be opened with this deployment's secrets key");
      }
    }
    const sender = deps.createSender(destination.data, secret, {
      allowLocal: config.allowLocal,
      timeoutMs: config.deliveryTimeoutMs,
      ...(deps.lookup ? { lookup: deps.lookup } : {}),
    });

    // The next batch is read while the current one is sent (the read waits on PostgreSQL, the
    // send on the receiver): at most one read ahead, from the current batch's end. The cursor
    // still moves only after the receiver's answer, batch after batch, so a failure drops the
    // read-ahead and the same entries are read and sent again. `turnEnd` stops a read-ahead
    // that is waiting for a batch to fill when the turn ends.
    const turnEnd = new AbortController();
    const stop = AbortSignal.any([closing.signal, turnEnd.signal]);
    let ahead: Promise<Batch | null> | undefined;
    const readAhead = (after: number) => {
      const read = collectBatch(stream.orgId, parsed.query, after, stop);
      read.catch(() => {}); // awaited below, or dropped with the turn
      return read;
    };
    try {
      for (;;) {
        if (closed) return "more";
        // Room for one more batch (a read, the wait, the send) before the lease ends?
        const leaseLeft = stream.leaseUntil.getTime() - Date.now();
        if (leaseLeft < config.deliveryTimeoutMs + config.batchMaxWaitMs + leaseMarginMs) {
          return "more";
        }
        const batch = await (ahead ?? collectBatch(stream.orgId, parsed.query, cursor, stop));
        ahead = undefined;
        if (batch === null) return "done"; // caught up
        if (batch.entries.length === 0) {
          // Nothing matched up to `through`: the cursor moves over the non-matching entries.
          const moved = await advanceCursor({
            streamId: stream.id,
            throughSeq: batch.through,
            delivered: false,
          });
          if (!moved) return "done"; // the lease was lost: another worker has the stream
          cursor = batch.through;
          if (moved.paused || moved.updatedAt.getTime() !== stream.updatedAt.getTime()) {
            return "done";
          }
          continue;
        }

        ahead = readAhead(batch.through);
        const timeout = AbortSignal.timeout(config.deliveryTimeoutMs);
        let outcome: DeliveryOutcome;
        try {
          outcome = await sender.send(
            {
              streamId: stream.id,
              org: { id: stream.orgId, slug: stream.orgSlug },
              entries: batch.entries,
            },
            { signal: timeout },
          );
        } catch (error) {
          outcome = { kind: "retry", reason: (error as Error).message, status: null };
        }
        if (outcome.kind !== "delivered") {
          const status =
            "status" in outcome && outcome.status !== null ? ` (${outcome.status})` : "";
          return await fail(`${outcome.kind}${status}: ${outcome.reason}`, outcome);
        }
        const moved = await advanceCursor({
          streamId: stream.id,
          throughSeq: batch.through,
          delivered: true,
        });
        // Lost the lease while sending (too slow): the batch counts as not delivered here and
        // the worker that holds the stream now sends it again (at least once, never a skip).
        if (!moved) return "done";
        cursor = batch.through;
        if (moved.wasReportedFailing) {
          await deps
            .notify({
              kind: "stream.recovered",
              stream: about,
              failingSince: moved.endedFailureSince,
            })
            .catch((error) =>
              logger.error("stream recovered notification not sent", {
                streamId: stream.id,
                error: (error as Error).message,
              }),
            );
        }
        // Paused, or changed by the API (query, destination): this turn ends; the next claim
        // reads the stream as it is now.
        if (moved.paused || moved.updatedAt.getTime() !== stream.updatedAt.getTime()) {
          return "done";
        }
      }
    } finally {
      // A read-ahead still running ends with the turn (its wait is cut short), before the
      // lease is given back.
      turnEnd.abort();
      await ahead?.catch(() => null);
      // The receiver's connection, kept between this turn's batches, is not kept past it.
      sender.close?.();
    }
  };

  interface Batch {
    entries: StreamEntry[];
    through: number;
  }

  /**
   * The next batch after `cursor`: matching entries up to the count and byte bounds; while it
   * is smaller than both and its oldest entry younger than the wait bound, it waits for more to
   * join it. Null when the log holds nothing after the cursor; an empty batch with `through`
   * past the cursor when nothing matched there.
   */
  const collectBatch = async (
    orgId: string,
    query: ParsedQuery,
    cursor: number,
    stop: AbortSignal,
  ): Promise<Batch | null> => {
    const entries: StreamEntry[] = [];
    let bytes = 0;
    let through = cursor;
    let oldest: number | undefined;
    // The first read sees every commit before it; a read on sees those before the previous read
    // (or the wait) began: a read of the organisation's entries begun since by another stream
    // answers it (the shared read), instead of a statement per stream and poll.
    let freshAfter: number | undefined;
    for (;;) {
      const before = through;
      const readAt = performance.now();
      // The replica while it keeps up: a lagging one only delays entries (seq order is commit
      // order there too), and the cursor lives on the primary, so nothing is sent twice.
      const read = await sharedRead.read(db.forReads(), {
        orgId,
        query,
        afterSeq: through,
        limit: config.batchMaxEntries - entries.length,
        ...(freshAfter !== undefined ? { freshAfter } : {}),
      });
      for (let i = 0; i < read.entries.length; i++) {
        const entry = read.entries[i] as StreamEntry;
        // The entry's JSON text and its separator: what every sender's envelope holds per entry
        // (PostgreSQL counted the bytes, which spares a UTF-8 scan of every text here).
        const size = (read.bytes[i] as number) + 1;
        // Full by bytes: the batch ends before this entry (one entry alone always goes).
        if (entries.length > 0 && bytes + size > config.batchMaxBytes) {
          return { entries, through };
        }
        entries.push(entry);
        bytes += size;
        through = entry.seq;
        oldest ??= read.storedAtMs[i];
      }
      // Every entry of the read was taken: the batch covers all the read scanned.
      through = Math.max(through, read.scannedThrough);
      if (entries.length >= config.batchMaxEntries || bytes >= config.batchMaxBytes) {
        return { entries, through };
      }
      if (through === cursor) return null;
      // Nothing matched yet: the caller moves the cursor over what was scanned, and reads on.
      if (entries.length === 0) return { entries, through };
      // The read progressed (a scan window's end, or more entries committed): read on at once.
      if (through > before) {
        freshAfter = readAt;
        continue;
      }
      // Young and small, and the log holds nothing more yet: wait a step for more to join, until
      // the oldest entry has waited the bound.
      const waitMs = (oldest as number) + config.batchMaxWaitMs - Date.now();
      if (waitMs <= 0 || stop.aborted) return { entries, through };
      freshAfter = performance.now();
      await sleep(Math.min(waitMs, 50), stop);
      if (stop.aborted) return { entries, through };
    }
  };

  // The doorbell: every stored-entries message wakes a pass (coalesced while one runs).
  await deps.subscriber.subscribe(realtimeChannels.entriesStored);
  // Organisations with a stream not paused, and how many, as of the last poll: a message about
  // any other (nearly every write, on a busy deployment) costs no claim query; nor does one about
  // an organisation whose streams all run here already (ten streams following a log at full
  // ingest rang a claim that found nothing at every commit): a running turn reads on by itself.
  // A stream created since is found by the poll's own pass, one interval later at most, as is a
  // stream whose turn ended on the answer just before a message it skipped.
  let activeStreams = new Map<string, number>();
  const refreshOrgs = () =>
    countActiveStreamsByOrg(deps.db).then(
      (counts) => {
        activeStreams = counts;
      },
      (error: Error) => logger.warn("stream orgs not refreshed", { error: error.message }),
    );
  deps.subscriber.on("message", (channel, text) => {
    if (channel !== realtimeChannels.entriesStored) return;
    const message = entriesStoredMessageSchema.safeParse(safeJson(text));
    // A message we cannot read wakes a pass anyway: the claim decides.
    if (!message.success) return wake();
    const { orgId } = message.data;
    if ((runningByOrg.get(orgId) ?? 0) < (activeStreams.get(orgId) ?? 0)) wake();
  });
  const poll = setInterval(() => {
    void refreshOrgs();
    wake();
  }, config.pollIntervalMs);
  void refreshOrgs();
  wake();
  logger.info("stream delivery started", { owner, concurrency: config.concurrency });

  return {
    owner,
    /** Starts a pass now (tests; the doorbell and the poll do it otherwise). */
    wake,
    /** Stops claiming; lets every in-flight batch finish (bounded by the delivery timeout). */
    async close() {
      closed = true;
      clearInterval(poll);
      closing.abort();
      await passing;
      await Promise.all(running.values());
      await deps.subscriber.unsubscribe(realtimeChannels.entriesStored).catch(() => {});
      deps.subscriber.disconnect();
      logger.info("stream delivery stopped", { owner });
    },
  };
}

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done);
  });
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
