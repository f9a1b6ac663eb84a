import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { loadSecretBox } from "@auditlog/db";
import { newId } from "@auditlog/events";
import type pg from "pg";
import { log, round, sleep } from "./util.ts";

/**
 * The streams phase's receiver: a fast https-stream sink on 127.0.0.1. It reads each message's
 * `webhook-id` (`<streamId>_<firstSeq>-<lastSeq>`, the https sender's batch id) and the time it
 * arrived, skips the body unparsed and answers 204: the bench measures the delivery loop, not
 * a receiver's JSON parsing on the same two cores. The streams' messages go to a bare HTTP/1.1
 * reader on a socket server (`startBatchSink`): Node's HTTP server cost the bench's process
 * 1.5 µs of CPU per KiB received, this reader 0.5–0.8, and ten streams receive ~10 KiB per
 * committed event on the cores the stack runs on. On `/alerts` (another port) Node's HTTP server
 * is the organisation's webhook: each `alert.fired` message (small) is parsed for the seq of the
 * entry it tells about.
 */
export async function startStreamSink() {
  const deliveries: { streamId: string; first: number; last: number; at: number }[] = [];
  const alerts: AlertMessage[] = [];
  const batches = await startBatchSink((id) => {
    const match = /^(.+)_(\d+)-(\d+)$/.exec(id);
    if (!match) return false;
    deliveries.push({
      streamId: match[1] as string,
      first: Number(match[2]),
      last: Number(match[3]),
      at: Date.now(),
    });
    return true;
  });
  const server: Server = createServer((req, res) => {
    if (req.url !== "/alerts") {
      req.resume();
      res.writeHead(404).end();
      return;
    }
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const at = Date.now();
      try {
        const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
          type?: string;
          data?: { matched?: number; grouped?: boolean; entry?: { seq?: number } | null };
        };
        alerts.push({
          seq: message.data?.entry?.seq ?? null,
          matched: message.data?.matched ?? 0,
          grouped: message.data?.grouped === true,
          at,
        });
        res.writeHead(204).end();
      } catch {
        res.writeHead(400).end();
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${batches.port}/audit`,
    alertsUrl: `http://127.0.0.1:${port}/alerts`,
    deliveries,
    alerts,
    close: async () => {
      await batches.close();
      await new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      });
    },
  };
}

const noContent = Buffer.from("HTTP/1.1 204 No Content\r\n\r\n");
const badRequest = Buffer.from(
  "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);

/**
 * A bare HTTP/1.1 POST reader: per request, the head (up to the blank line) is read for
 * `content-length` and `webhook-id`, that many body bytes are skipped, and 204 is answered when
 * `accept(webhookId)` takes the message (400, and the connection closed, otherwise or without a
 * length: the senders always send one). Connections are kept between requests.
 */
async function startBatchSink(accept: (webhookId: string) => boolean) {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    let bodyLeft = -1;
    let ok = true;
    socket.on("data", (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length) {
        if (bodyLeft < 0) {
          const end = chunk.indexOf("\r\n\r\n", at, "latin1");
          if (end < 0 || head.length > 0) {
            // A head split across reads: gathered as text until its blank line.
            head += chunk.toString("latin1", at);
            const blank = head.indexOf("\r\n\r\n");
            if (blank < 0) return;
            at = chunk.length - (head.length - blank - 4);
            ({ bodyLeft, ok } = readHead(head.slice(0, blank), accept));
            head = "";
          } else {
            ({ bodyLeft, ok } = readHead(chunk.toString("latin1", at, end), accept));
            at = end + 4;
          }
          if (!ok || bodyLeft < 0) {
            socket.end(badRequest);
            return;
          }
        }
        const take = Math.min(bodyLeft, chunk.length - at);
        bodyLeft -= take;
        at += take;
        if (bodyLeft === 0) {
          bodyLeft = -1;
          socket.write(noContent);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function readHead(
  head: string,
  accept: (webhookId: string) => boolean,
): { bodyLeft: number; ok: boolean } {
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const id = /\r\nwebhook-id:[ \t]*([^\r]*)/i.exec(head);
  if (!length) return { bodyLeft: -1, ok: false };
  return { bodyLeft: Number(length[1]), ok: accept((id?.[1] ?? "").trim()) };
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
        JSON.stringify({ type: "https", url: input.url }),
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
    deliveries: { streamId: string; first: number; last: number; at: number }[];
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
