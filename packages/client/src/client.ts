import { newEventId } from "./event-id.ts";
import type { AuditEvent } from "./generated/event-types.ts";
import { type BackoffOptions, parseRetryAfter, retryDelay } from "./retry.ts";

/** The API's limits (README, Ingestion API): events per request, and one event's JSON. */
export const apiMaxBatchEvents = 1000;
export const apiMaxEventBytes = 64 * 1024;

export type DropReason = "buffer_full" | "close_timeout";

export interface RetryInfo {
  /** The batch's Idempotency-Key, the same on every attempt. */
  idempotencyKey: string;
  /** The attempt that failed, counting from 1. */
  attempt: number;
  /** The answer's status; undefined when no answer came (connection refused or lost, timeout). */
  status: number | undefined;
  /** The server's Retry-After, in milliseconds, when it sent one. */
  retryAfterMs: number | undefined;
  /** How long the client waits before the next attempt (never less than `retryAfterMs`). */
  delayMs: number;
  events: number;
  error?: string;
}

export interface RejectInfo {
  status: number;
  code: string | undefined;
  message: string;
}

export interface AuditLogClientOptions {
  /** Where the API is, e.g. `http://127.0.0.1:3000` (events go to `${baseUrl}/v1/events`). */
  baseUrl: string;
  /** An ingestion key (`auditlog key create`). Sent as a bearer token, never logged. */
  apiKey: string;
  /** Events per request, at most the API's 1,000. Default 500. */
  maxBatchEvents?: number;
  /** Bytes of JSON per request, under the API's MAX_BODY_BYTES (1 MiB). Default 512 KiB. */
  maxBatchBytes?: number;
  /** How long an event waits for its batch to fill before it is sent anyway. Default 1,000 ms. */
  flushIntervalMs?: number;
  /** Events held at most (waiting and being sent). Default 10,000. */
  maxBufferedEvents?: number;
  /**
   * With the buffer full: `"block"` (default) makes `record()`'s promise wait for room;
   * `"drop"` drops the event, counts it (`stats().dropped`) and calls `onDrop`.
   */
  onFull?: "block" | "drop";
  /** Requests in flight at once. Default 2. */
  maxConcurrentRequests?: number;
  /** The first retry's backoff ceiling, doubled per attempt. Default 250 ms. */
  initialRetryDelayMs?: number;
  /** The largest backoff (a Retry-After is honoured even when longer). Default 30,000 ms. */
  maxRetryDelayMs?: number;
  /** One attempt's limit, above the API's INGEST_ADMISSION_WAIT_MS. Default 30,000 ms. */
  requestTimeoutMs?: number;
  /** Flush on SIGTERM, SIGINT and beforeExit, then let the process exit. Default true. */
  handleExit?: boolean;
  /** How long the flush at exit (and `close()` by default) may take. Default 10,000 ms. */
  closeTimeoutMs?: number;
  /** An event dropped: the buffer was full (`"drop"`), or it was unsent at a close deadline. */
  onDrop?: (event: AuditEvent, reason: DropReason) => void;
  /** Events the API refused for good (400, 401, 403 …): not retried, counted as rejected. */
  onReject?: (events: AuditEvent[], info: RejectInfo) => void;
  /** A failed attempt that will be retried. */
  onRetry?: (info: RetryInfo) => void;
  /** `fetch` to use; Node's own by default. */
  fetch?: typeof fetch;
}

export interface ClientStats {
  /** Events passed to `record()` (dropped ones included). */
  recorded: number;
  /** Events the API answered 202 for: queued in Redis's append-only file, they will be stored. */
  acknowledged: number;
  /** Events dropped because the buffer was full (`onFull: "drop"`). */
  dropped: number;
  /** Events still unsent when a close (or exit) deadline passed. */
  abandoned: number;
  /** Events the API refused for good. */
  rejected: number;
  /** Events waiting for a batch, being sent, or (`"block"`) waiting for room. */
  pending: number;
  /** Requests sent (every attempt). */
  requests: number;
  /** Attempts that failed and were tried again. */
  retries: number;
  /** Retries whose wait came from a Retry-After header. */
  retryAfterHonoured: number;
  /** Answers by status; `"network"` for no answer. */
  responses: Record<string, number>;
}

interface Held {
  seq: number;
  event: AuditEvent;
  json: string;
  bytes: number;
}

interface Waiter {
  held: Held;
  resolve: (id: string | undefined) => void;
}

interface Batch {
  idempotencyKey: string;
  events: Held[];
}

/** The closes that exit signals started, across clients: the signal is raised again after all. */
const closingAtExit = new Set<Promise<ClientStats>>();
/** Every client's signal handler, told apart from the service's own. */
const clientSignalHandlers = new Set<unknown>();

const retryableStatuses = new Set([408, 429, 500, 502, 503, 504]);
const signals = ["SIGTERM", "SIGINT"] as const;
const userAgent = "auditlog-client/0.1.0";

/**
 * Records audit events from a service: batches them (by count, bytes and time), sends each
 * batch with an Idempotency-Key and events that carry their own ids, retries what failed, and
 * flushes on exit. See README.md for the policies.
 */
export class AuditLogClient {
  readonly #url: string;
  readonly #apiKey: string;
  readonly #maxBatchEvents: number;
  readonly #maxBatchBytes: number;
  readonly #flushIntervalMs: number;
  readonly #maxBuffered: number;
  readonly #onFull: "block" | "drop";
  readonly #maxConcurrent: number;
  readonly #backoff: BackoffOptions;
  readonly #requestTimeoutMs: number;
  readonly #closeTimeoutMs: number;
  readonly #options: AuditLogClientOptions;
  readonly #fetch: typeof fetch;

  #seq = 0;
  /** Recorded, not yet in a batch. */
  readonly #buffer: Held[] = [];
  #bufferBytes = 0;
  /** Recorded while the buffer was full (`"block"`), in order. */
  readonly #waiters: Waiter[] = [];
  readonly #inFlight = new Set<Batch>();
  #inFlightEvents = 0;
  /** Every event recorded up to this sequence number is sent now, full batch or not. */
  #flushThrough = 0;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  #closing: Promise<ClientStats> | undefined;
  /** Aborted at a close deadline: ends every wait and request. */
  readonly #abort = new AbortController();
  readonly #settleListeners = new Set<() => void>();
  readonly #stats: ClientStats = {
    recorded: 0,
    acknowledged: 0,
    dropped: 0,
    abandoned: 0,
    rejected: 0,
    pending: 0,
    requests: 0,
    retries: 0,
    retryAfterHonoured: 0,
    responses: {},
  };
  readonly #signalHandlers = new Map<string, () => void>();
  readonly #beforeExit = () => {
    // The event loop ran dry with events still held: send them, within the close deadline.
    if (this.#pendingCount() > 0 && !this.#closed) void this.close();
  };

  constructor(options: AuditLogClientOptions) {
    if (!options.baseUrl) throw new TypeError("AuditLogClient: baseUrl is required");
    if (!options.apiKey) throw new TypeError("AuditLogClient: apiKey is required");
    this.#options = options;
    this.#url = `${options.baseUrl.replace(/\/+$/, "")}/v1/events`;
    this.#apiKey = options.apiKey;
    this.#maxBatchEvents = positive("maxBatchEvents", options.maxBatchEvents ?? 500);
    if (this.#maxBatchEvents > apiMaxBatchEvents) {
      throw new RangeError(`AuditLogClient: maxBatchEvents must be at most ${apiMaxBatchEvents}`);
    }
    this.#maxBatchBytes = positive("maxBatchBytes", options.maxBatchBytes ?? 512 * 1024);
    this.#flushIntervalMs = positive("flushIntervalMs", options.flushIntervalMs ?? 1000);
    this.#maxBuffered = positive("maxBufferedEvents", options.maxBufferedEvents ?? 10_000);
    if (this.#maxBuffered < this.#maxBatchEvents) {
      throw new RangeError("AuditLogClient: maxBufferedEvents must be at least maxBatchEvents");
    }
    this.#onFull = options.onFull ?? "block";
    if (this.#onFull !== "block" && this.#onFull !== "drop") {
      throw new TypeError('AuditLogClient: onFull must be "block" or "drop"');
    }
    this.#maxConcurrent = positive("maxConcurrentRequests", options.maxConcurrentRequests ?? 2);
    this.#backoff = {
      initialDelayMs: positive("initialRetryDelayMs", options.initialRetryDelayMs ?? 250),
      maxDelayMs: positive("maxRetryDelayMs", options.maxRetryDelayMs ?? 30_000),
    };
    this.#requestTimeoutMs = positive("requestTimeoutMs", options.requestTimeoutMs ?? 30_000);
    this.#closeTimeoutMs = positive("closeTimeoutMs", options.closeTimeoutMs ?? 10_000);
    this.#fetch = options.fetch ?? fetch;
    if (options.handleExit ?? true) this.#installExitHandlers();
  }

  /**
   * Queues one event. Its `type` picks the shape of its `data`. The client gives it an `id`
   * (`evt_…`) and an `occurredAt` (now) when it has none, and copies it: later changes to the
   * object do not reach the log.
   *
   * The promise resolves with the event's id once the event is held (at once while there is
   * room), or with undefined when it was dropped (`onFull: "drop"`); it never rejects. Throws
   * synchronously for an event that can never be sent: after `close()`, or over 64 KiB of JSON.
   */
  record(event: AuditEvent): Promise<string | undefined> {
    if (this.#closed) throw new Error("AuditLogClient: record() after close()");
    const complete = {
      ...event,
      id: event.id ?? newEventId(),
      occurredAt: event.occurredAt ?? new Date().toISOString(),
    } as AuditEvent;
    const json = JSON.stringify(complete);
    const bytes = Buffer.byteLength(json);
    if (bytes > apiMaxEventBytes) {
      throw new RangeError(
        `AuditLogClient: event ${complete.type} is ${bytes} bytes of JSON; the API takes at most ${apiMaxEventBytes}`,
      );
    }
    const held: Held = { seq: ++this.#seq, event: complete, json, bytes };
    this.#stats.recorded++;
    if (this.#waiters.length === 0 && this.#heldCount() < this.#maxBuffered) {
      this.#hold(held);
      return Promise.resolve(complete.id);
    }
    if (this.#onFull === "drop") {
      this.#stats.dropped++;
      this.#options.onDrop?.(complete, "buffer_full");
      this.#settled();
      return Promise.resolve(undefined);
    }
    return new Promise((resolve) => {
      this.#waiters.push({ held, resolve });
      this.#pump();
    });
  }

  /**
   * Sends every event recorded so far, and resolves once each is acknowledged (or rejected by
   * the API, or dropped at a close deadline). Retries go on until then: await it with a deadline
   * of your own, or use `close()`, which has one.
   */
  async flush(): Promise<void> {
    const through = this.#seq;
    this.#flushThrough = Math.max(this.#flushThrough, through);
    this.#pump();
    await this.#until(() => this.#oldestPendingSeq() > through);
  }

  /**
   * Stops taking events, sends what is held within `timeoutMs` (default `closeTimeoutMs`),
   * counts what is left as abandoned (`onDrop(event, "close_timeout")`), removes the exit
   * handlers, and resolves with the final stats. Calling it again returns the same promise.
   */
  close(options: { timeoutMs?: number } = {}): Promise<ClientStats> {
    this.#closing ??= this.#close(options.timeoutMs ?? this.#closeTimeoutMs);
    return this.#closing;
  }

  /** Counters since the client was made (a copy). */
  stats(): ClientStats {
    return {
      ...this.#stats,
      pending: this.#pendingCount(),
      responses: { ...this.#stats.responses },
    };
  }

  async #close(timeoutMs: number): Promise<ClientStats> {
    this.#closed = true;
    this.#removeExitHandlers();
    // The one timer that keeps the process alive: a flush at exit runs to its end or deadline.
    const deadline = setTimeout(() => this.#abort.abort(), timeoutMs);
    try {
      await Promise.race([
        this.flush(),
        new Promise<void>((resolve) =>
          this.#abort.signal.addEventListener("abort", () => resolve(), { once: true }),
        ),
      ]);
    } finally {
      clearTimeout(deadline);
    }
    this.#abort.abort();
    // Requests cut short settle their batches as abandoned; wait for that bookkeeping.
    await this.#until(() => this.#inFlight.size === 0);
    for (const held of this.#buffer.splice(0)) this.#abandon(held);
    this.#bufferBytes = 0;
    for (const waiter of this.#waiters.splice(0)) {
      this.#abandon(waiter.held);
      waiter.resolve(undefined);
    }
    clearTimeout(this.#timer);
    this.#settled();
    return this.stats();
  }

  #abandon(held: Held) {
    this.#stats.abandoned++;
    this.#options.onDrop?.(held.event, "close_timeout");
  }

  #hold(held: Held) {
    this.#buffer.push(held);
    this.#bufferBytes += held.bytes;
    this.#pump();
  }

  /** Held events are sent within `flushIntervalMs`, full batch or not. */
  #ensureTimer() {
    if (this.#buffer.length > 0 && this.#timer === undefined && !this.#closed) {
      this.#timer = setTimeout(() => {
        this.#timer = undefined;
        this.#flushThrough = Math.max(this.#flushThrough, this.#seq);
        this.#pump();
      }, this.#flushIntervalMs);
      // A held event alone does not keep the process alive: beforeExit flushes it.
      this.#timer.unref();
    }
  }

  #heldCount() {
    return this.#buffer.length + this.#inFlightEvents;
  }

  #pendingCount() {
    return this.#heldCount() + this.#waiters.length;
  }

  #oldestPendingSeq(): number {
    let oldest = Number.POSITIVE_INFINITY;
    const first = this.#buffer[0] ?? this.#waiters[0]?.held;
    if (first) oldest = first.seq;
    for (const batch of this.#inFlight) {
      for (const held of batch.events) if (held.seq < oldest) oldest = held.seq;
    }
    return oldest;
  }

  /** Starts as many batches as are due and allowed; moves blocked events into freed room. */
  #pump() {
    if (this.#abort.signal.aborted) return;
    this.#startBatches();
    this.#ensureTimer();
  }

  #startBatches() {
    for (;;) {
      while (this.#waiters.length > 0 && this.#heldCount() < this.#maxBuffered) {
        const waiter = this.#waiters.shift() as Waiter;
        this.#buffer.push(waiter.held);
        this.#bufferBytes += waiter.held.bytes;
        waiter.resolve(waiter.held.event.id);
      }
      if (this.#inFlight.size >= this.#maxConcurrent || this.#buffer.length === 0) return;
      const due =
        this.#buffer.length >= this.#maxBatchEvents ||
        this.#bufferBytes >= this.#maxBatchBytes ||
        (this.#buffer[0] as Held).seq <= this.#flushThrough;
      if (!due) return;
      const batch = this.#takeBatch();
      this.#inFlight.add(batch);
      this.#inFlightEvents += batch.events.length;
      void this.#send(batch).finally(() => {
        this.#inFlight.delete(batch);
        this.#inFlightEvents -= batch.events.length;
        this.#pump();
        this.#settled();
      });
      if (this.#buffer.length === 0) {
        clearTimeout(this.#timer);
        this.#timer = undefined;
      }
    }
  }

  #takeBatch(): Batch {
    const events: Held[] = [];
    // `{"events":[` … `]}`, and a comma between two events.
    let bytes = 13;
    while (events.length < this.#maxBatchEvents && this.#buffer.length > 0) {
      const next = this.#buffer[0] as Held;
      if (events.length > 0 && bytes + next.bytes + 1 > this.#maxBatchBytes) break;
      events.push(next);
      this.#buffer.shift();
      this.#bufferBytes -= next.bytes;
      bytes += next.bytes + 1;
    }
    return { idempotencyKey: crypto.randomUUID(), events };
  }

  /** Sends one batch until it is acknowledged, refused for good, or the close deadline passes. */
  async #send(batch: Batch): Promise<void> {
    let events = batch.events;
    for (let attempt = 1; events.length > 0; attempt++) {
      if (this.#abort.signal.aborted) return this.#abandonAll(events);
      const body = `{"events":[${events.map((held) => held.json).join(",")}]}`;
      let status: number | undefined;
      let text = "";
      let retryAfterMs: number | undefined;
      let failure: string | undefined;
      this.#stats.requests++;
      try {
        const response = await this.#fetch(this.#url, {
          method: "POST",
          headers: {
            authorization: `Bearer ${this.#apiKey}`,
            "content-type": "application/json",
            "idempotency-key": batch.idempotencyKey,
            "user-agent": userAgent,
          },
          body,
          signal: AbortSignal.any([
            this.#abort.signal,
            AbortSignal.timeout(this.#requestTimeoutMs),
          ]),
        });
        status = response.status;
        retryAfterMs = parseRetryAfter(response.headers.get("retry-after"));
        text = await response.text();
      } catch (error) {
        failure = (error as Error).message;
      }
      const label = status === undefined ? "network" : String(status);
      this.#stats.responses[label] = (this.#stats.responses[label] ?? 0) + 1;

      if (status !== undefined && status >= 200 && status < 300) {
        this.#stats.acknowledged += events.length;
        return;
      }
      if (status === undefined || retryableStatuses.has(status)) {
        // No answer, or one that says "later": the same body and key again. Events that
        // reached Redis anyway carry their ids, so the retry stores nothing twice.
        if (this.#abort.signal.aborted) return this.#abandonAll(events);
        const delayMs = retryDelay(attempt, this.#backoff, retryAfterMs);
        this.#stats.retries++;
        if (retryAfterMs !== undefined) this.#stats.retryAfterHonoured++;
        this.#options.onRetry?.({
          idempotencyKey: batch.idempotencyKey,
          attempt,
          status,
          retryAfterMs,
          delayMs,
          events: events.length,
          ...(failure === undefined ? {} : { error: failure }),
        });
        await sleep(delayMs, this.#abort.signal);
        continue;
      }
      const refusal = readError(status, text);
      if (status === 413 && events.length > 1) {
        // Larger than the server takes (a MAX_BODY_BYTES below this client's maxBatchBytes):
        // each half on its own, under keys of their own.
        const half = Math.ceil(events.length / 2);
        await Promise.all([
          this.#send({
            idempotencyKey: `${batch.idempotencyKey}.1`,
            events: events.slice(0, half),
          }),
          this.#send({ idempotencyKey: `${batch.idempotencyKey}.2`, events: events.slice(half) }),
        ]);
        return;
      }
      // 400 and 403 name the refused events (`events[3].data.user`): refuse those, send the rest
      // again, so one bad event does not cost its batch.
      const named = refusal.eventIndexes;
      if ((status === 400 || status === 403) && named.size > 0 && named.size < events.length) {
        this.#reject(
          events.filter((_, index) => named.has(index)),
          refusal,
        );
        events = events.filter((_, index) => !named.has(index));
        continue;
      }
      this.#reject(events, refusal);
      return;
    }
  }

  #abandonAll(events: Held[]) {
    for (const held of events) this.#abandon(held);
  }

  #reject(events: Held[], refusal: RejectInfo) {
    this.#stats.rejected += events.length;
    const info = { status: refusal.status, code: refusal.code, message: refusal.message };
    if (this.#options.onReject) {
      this.#options.onReject(
        events.map((held) => held.event),
        info,
      );
    } else {
      // Never the key, never an event (whose context holds a full IP address).
      process.emitWarning(
        `auditlog: the API refused ${events.length} event(s): ${refusal.status} ${refusal.code ?? ""} ${refusal.message}`,
        "AuditLogClientWarning",
      );
    }
  }

  #until(condition: () => boolean): Promise<void> {
    if (condition()) return Promise.resolve();
    return new Promise((resolve) => {
      const check = () => {
        if (!condition()) return;
        this.#settleListeners.delete(check);
        resolve();
      };
      this.#settleListeners.add(check);
    });
  }

  #settled() {
    for (const check of [...this.#settleListeners]) check();
  }

  #installExitHandlers() {
    for (const signal of signals) {
      const handler = () => {
        // Ours runs first (prepended): the listeners left are the service's own, if any.
        const serviceHandles = process
          .listeners(signal)
          .some((listener) => !clientSignalHandlers.has(listener));
        const closing = this.close();
        closingAtExit.add(closing);
        // Every client's handler runs in this tick: wait for all of their flushes.
        void Promise.allSettled([...closingAtExit]).then(() => {
          closingAtExit.delete(closing);
          // Without a handler of the service's, the signal's default (exit) happens now, as it
          // would have without the client; with one, the service decides when to exit.
          if (closingAtExit.size === 0 && !serviceHandles) process.kill(process.pid, signal);
        });
      };
      this.#signalHandlers.set(signal, handler);
      clientSignalHandlers.add(handler);
      process.prependOnceListener(signal, handler);
    }
    process.on("beforeExit", this.#beforeExit);
  }

  #removeExitHandlers() {
    for (const [signal, handler] of this.#signalHandlers) {
      process.removeListener(signal, handler);
      clientSignalHandlers.delete(handler);
    }
    this.#signalHandlers.clear();
    process.removeListener("beforeExit", this.#beforeExit);
  }
}

function positive(name: string, value: number): number {
  if (!Number.isFinite(value) || value <= 0) {
    throw new RangeError(`AuditLogClient: ${name} must be a positive number`);
  }
  return value;
}

function readError(status: number, text: string): RejectInfo & { eventIndexes: Set<number> } {
  const eventIndexes = new Set<number>();
  try {
    const { error } = JSON.parse(text) as {
      error?: { code?: string; message?: string; details?: Array<{ path?: string }> };
    };
    for (const detail of error?.details ?? []) {
      const match = /^events\[(\d+)\]/.exec(detail.path ?? "");
      if (match) eventIndexes.add(Number(match[1]));
    }
    return {
      status,
      code: error?.code,
      message: error?.message ?? `HTTP ${status}`,
      eventIndexes,
    };
  } catch {
    return { status, code: undefined, message: `HTTP ${status}`, eventIndexes };
  }
}

/** Waits `ms` (without keeping the process alive), or less when `signal` aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
    signal.addEventListener("abort", done, { once: true });
  });
}
