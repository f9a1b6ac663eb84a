import { createRequire } from "node:module";
import { dirname, join } from "node:path";
import { pathToFileURL } from "node:url";
import { Worker } from "node:worker_threads";
import { destinationSettingsJson, loadSecretBox } from "@auditlog/db";
import { newId } from "@auditlog/events";
import type pg from "pg";
import { log, round, sleep } from "./util.ts";

/** A batch the sink took: its stream, its first and last seq (from `webhook-id`), its arrival. */
export interface SinkDelivery {
  streamId: string;
  first: number;
  last: number;
  at: number;
}

/** What the bench asks of the sink's thread, and its answers. */
export type SinkRequest = { type: "collect" } | { type: "close" };
export type SinkReply =
  | { type: "ready"; batchPort: number; alertsPort: number }
  | { type: "collected"; deliveries: SinkDelivery[]; alerts: AlertMessage[] }
  | { type: "closed" };

const tsxApi = pathToFileURL(
  join(
    dirname(createRequire(import.meta.url).resolve("tsx/package.json")),
    "dist/esm/api/index.mjs",
  ),
).href;
const tsxBootstrap = `
const { workerData } = require("node:worker_threads");
import(workerData.tsxApi)
  .then(({ register }) => { register(); return import(workerData.entry); })
  .catch((error) => { console.error(error); process.exit(1); });
`;

/**
 * The streams phase's receiver: a fast https-stream sink on 127.0.0.1. It reads each message's
 * `webhook-id` (`<streamId>_<firstSeq>-<lastSeq>`, the https sender's batch id) and the time it
 * arrived, skips the body unparsed and answers 204: the bench measures the delivery loop, not
 * a receiver's JSON parsing on the same two cores. The streams' messages go to a bare HTTP/1.1
 * reader on a socket server: Node's HTTP server cost the bench's process 1.5 µs of CPU per KiB
 * received, this reader 0.5–0.8, and ten streams receive ~10 KiB per committed event on the
 * cores the stack runs on. On `/alerts` (another port) Node's HTTP server is the organisation's
 * webhook: each `alert.fired` message (small) is parsed for the seq of the entry it tells about.
 * Both run on a thread of this process (`stream-sink-thread.ts` says why); `collect` answers
 * what they received so far.
 */
export async function startStreamSink() {
  const thread = new Worker(tsxBootstrap, {
    eval: true,
    workerData: { tsxApi, entry: new URL("./stream-sink-thread.ts", import.meta.url).href },
  });
  const waiting: { resolve: (reply: SinkReply) => void; reject: (error: Error) => void }[] = [];
  let failed: Error | undefined;
  const fail = (error: Error) => {
    failed ??= error;
    for (const wait of waiting.splice(0)) wait.reject(error);
  };
  thread.on("message", (reply: SinkReply) => waiting.shift()?.resolve(reply));
  thread.on("error", fail);
  thread.on("exit", (code) =>
    fail(new Error(`the stream sink's thread ended (exit code ${code})`)),
  );
  const nextReply = <T extends SinkReply["type"]>(type: T) =>
    new Promise<Extract<SinkReply, { type: T }>>((resolve, reject) => {
      if (failed) return reject(failed);
      waiting.push({
        resolve: (reply) =>
          reply.type === type
            ? resolve(reply as Extract<SinkReply, { type: T }>)
            : reject(new Error(`the stream sink answered ${reply.type}, not ${type}`)),
        reject,
      });
    });
  const ask = <T extends SinkReply["type"]>(request: SinkRequest, type: T) => {
    const reply = nextReply(type);
    thread.postMessage(request);
    return reply;
  };
  const ready = await nextReply("ready");
  return {
    url: `http://127.0.0.1:${ready.batchPort}/audit`,
    alertsUrl: `http://127.0.0.1:${ready.alertsPort}/alerts`,
    /** The batches and alert messages received so far. */
    collect: async () => {
      const { deliveries, alerts } = await ask({ type: "collect" }, "collected");
      return { deliveries, alerts };
    },
    close: async () => {
      await ask({ type: "close" }, "closed");
      await thread.terminate();
    },
  };
}

export interface AlertMessage {
  /** The seq of the entry a first-match message tells about; null for an "N more" message. */
  seq: number | null;
  matched: number;
  grouped: boolean;
  at: number;
}

/**
 * The alert latency run: the organisation's webhook pointed at the sink, and one alert rule on
 * `query` with the webhook channel only and a grouping window of 0 s, so every evaluation pass
 * that finds matches sends at once (its first match as a message of its own, the rest counted in
 * one "N more" message). Starts at the log's current size, as the API's rule does.
 */
export async function insertBenchAlert(
  pool: pg.Pool,
  input: { orgId: string; query: string; url: string },
): Promise<string> {
  const secret = `whsec_${Buffer.from(`bench-alert-secret-${input.orgId}`).toString("base64")}`;
  await pool.query(
    `INSERT INTO org_webhooks (org_id, url, secret) VALUES ($1, $2, $3)
     ON CONFLICT (org_id) DO UPDATE SET url = $2, secret = $3, disabled_at = NULL`,
    [input.orgId, input.url, secret],
  );
  const id = newId("alr");
  await pool.query(
    `INSERT INTO alert_rules (id, org_id, name, query, notify_console, notify_webhook,
       group_window_seconds, evaluated_seq, created_by)
     VALUES ($1, $2, 'bench alert', $3, false, true, 0,
       COALESCE((SELECT size FROM audit_log_heads WHERE org_id = $2), 0), 'bench')`,
    [id, input.orgId, input.query],
  );
  return id;
}

export interface AlertLatency {
  query: string;
  /** First-match messages measured (one per evaluation pass that found matches). */
  messages: number;
  /** Matches those passes told about (first and "more" messages together). */
  matches: number;
  /** Seconds from the told entry's stored_at to the message's arrival. */
  p50: number;
  p99: number;
  max: number;
}

/**
 * Alert latency: for every first-match message, its arrival minus the stored_at of the entry it
 * names. That entry is the oldest match of its pass (the rest of the pass's matches, counted in
 * the "N more" message sent right after, were stored later), so each figure bounds the latency of
 * every match of its pass.
 */
export async function alertLatency(
  pool: pg.Pool,
  input: { orgId: string; query: string; alerts: AlertMessage[] },
): Promise<AlertLatency> {
  const firsts = input.alerts.filter((a) => a.seq !== null);
  const { rows } = await pool.query<{ seq: number; t: number }>(
    `SELECT seq::int AS seq, (extract(epoch FROM stored_at) * 1000)::float8 AS t
     FROM audit_entries WHERE org_id = $1 AND seq = ANY($2::bigint[])`,
    [input.orgId, firsts.map((a) => a.seq)],
  );
  const storedAt = new Map(rows.map((row) => [row.seq, row.t]));
  const lags = firsts
    .map((a) => (a.at - (storedAt.get(a.seq as number) ?? Number.NaN)) / 1000)
    .filter((lag) => Number.isFinite(lag))
    .sort((a, b) => a - b);
  const percentile = (p: number) =>
    lags.length === 0
      ? Number.NaN
      : (lags[
          Math.min(lags.length - 1, Math.max(0, Math.ceil((p / 100) * lags.length) - 1))
        ] as number);
  const result: AlertLatency = {
    query: input.query,
    messages: lags.length,
    matches: input.alerts.reduce((sum, a) => sum + a.matched, 0),
    p50: round(percentile(50), 2),
    p99: round(percentile(99), 2),
    max: round(lags.at(-1) ?? Number.NaN, 2),
  };
  log(
    `alerts: ${result.messages} first-match messages (${result.matches} matches of ${input.query}): stored_at → webhook p50 ${result.p50} s, p99 ${result.p99} s, max ${result.max} s`,
  );
  return result;
}

/** `count` unfiltered https streams of `orgId` starting after `afterSeq`, to `url`. */
export async function insertBenchStreams(
  pool: pg.Pool,
  input: { orgId: string; count: number; afterSeq: number; url: string; secretsKeyFile: string },
): Promise<string[]> {
  const box = loadSecretBox(input.secretsKeyFile);
  const ids: string[] = [];
  for (let i = 0; i < input.count; i++) {
    const id = newId("str");
    const secret = `whsec_${Buffer.from(`bench-stream-secret-${id}`).toString("base64")}`;
    await pool.query(
      `INSERT INTO log_streams (id, org_id, name, destination_type, destination, secret_sealed,
         secret_hint, delivered_seq, created_by)
       VALUES ($1, $2, $3, 'https', $4, $5, $6, $7, 'bench')`,
      [
        id,
        input.orgId,
        `bench ${i + 1}`,
        destinationSettingsJson({ type: "https", url: input.url }),
        box.seal(secret),
        secret.slice(-4),
        input.afterSeq,
      ],
    );
    ids.push(id);
  }
  return ids;
}

/** Waits until every stream's cursor reached `seq`; throws at the deadline. */
export async function waitForStreams(
  pool: pg.Pool,
  ids: string[],
  seq: number,
  timeoutMs: number,
): Promise<number> {
  const started = Date.now();
  for (;;) {
    const { rows } = await pool.query<{ behind: number }>(
      "SELECT count(*)::int AS behind FROM log_streams WHERE id = ANY($1::text[]) AND delivered_seq < $2",
      [ids, seq],
    );
    if (rows[0]?.behind === 0) return (Date.now() - started) / 1000;
    if (Date.now() - started > timeoutMs) {
      const { rows: where } = await pool.query<{
        delivered_seq: string;
        last_error: string | null;
      }>("SELECT delivered_seq::text, last_error FROM log_streams WHERE id = ANY($1::text[])", [
        ids,
      ]);
      throw new Error(
        `streams did not reach seq ${seq} within ${timeoutMs} ms: ${JSON.stringify(where)}`,
      );
    }
    await sleep(50);
  }
}

export interface StreamLag {
  streams: number;
  /** (entry, stream) deliveries measured. */
  deliveries: number;
  /** Batches those streams received with an entry in the range, and their mean size. */
  batches: number;
  entriesPerBatch: number;
  /** Seconds from an entry's stored_at to the arrival of the batch that held it. */
  p50: number;
  p99: number;
  max: number;
}

/**
 * Delivery lag of `streamIds` for the entries with seq in (fromSeq, toSeq]: each entry's
 * stored_at against the arrival of the first batch that held it, per stream.
 */
export async function streamLag(
  pool: pg.Pool,
  input: {
    orgId: string;
    streamIds: string[];
    fromSeq: number;
    toSeq: number;
    deliveries: SinkDelivery[];
  },
): Promise<StreamLag> {
  const { rows } = await pool.query<{ seq: number; t: number }>(
    `SELECT seq::int AS seq, (extract(epoch FROM stored_at) * 1000)::float8 AS t
     FROM audit_entries WHERE org_id = $1 AND seq > $2 AND seq <= $3`,
    [input.orgId, input.fromSeq, input.toSeq],
  );
  const storedAt = new Float64Array(input.toSeq - input.fromSeq + 1);
  for (const row of rows) storedAt[row.seq - input.fromSeq] = row.t;
  const lags: number[] = [];
  const wanted = new Set(input.streamIds);
  let batches = 0;
  let batchEntries = 0;
  for (const d of input.deliveries) {
    if (!wanted.has(d.streamId) || d.last <= input.fromSeq || d.first > input.toSeq) continue;
    batches++;
    batchEntries += Math.min(d.last, input.toSeq) - Math.max(d.first, input.fromSeq + 1) + 1;
  }
  for (const streamId of wanted) {
    const seen = new Uint8Array(input.toSeq - input.fromSeq + 1);
    for (const d of input.deliveries) {
      if (d.streamId !== streamId) continue;
      for (
        let seq = Math.max(d.first, input.fromSeq + 1);
        seq <= Math.min(d.last, input.toSeq);
        seq++
      ) {
        const i = seq - input.fromSeq;
        if (seen[i]) continue;
        seen[i] = 1;
        lags.push((d.at - (storedAt[i] as number)) / 1000);
      }
    }
  }
  lags.sort((a, b) => a - b);
  const percentile = (p: number) =>
    lags.length === 0
      ? Number.NaN
      : (lags[
          Math.min(lags.length - 1, Math.max(0, Math.ceil((p / 100) * lags.length) - 1))
        ] as number);
  const result: StreamLag = {
    streams: wanted.size,
    deliveries: lags.length,
    batches,
    entriesPerBatch: batches === 0 ? 0 : round(batchEntries / batches, 1),
    p50: round(percentile(50), 2),
    p99: round(percentile(99), 2),
    max: round(lags.at(-1) ?? Number.NaN, 2),
  };
  log(
    `streams: lag over ${result.deliveries} deliveries to ${result.streams} streams (${batches} batches, ${result.entriesPerBatch} entries each): p50 ${result.p50} s, p99 ${result.p99} s, max ${result.max} s`,
  );
  return result;
}
