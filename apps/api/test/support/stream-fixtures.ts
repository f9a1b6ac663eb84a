import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import { type Database, loadSecretBox, secretsEnv } from "@auditlog/db";
import type { createTestPool } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import type { CreateDestinationSender } from "@auditlog/streams";
import { z } from "zod";

type Pool = ReturnType<typeof createTestPool>;

/**
 * A stream row as the API creates it (its CRUD is another module's): the secret sealed with the
 * deployment's secrets key, the cursor where the API's `start` puts it.
 */
export async function insertStream(
  pool: Pool,
  input: {
    orgId: string;
    destination: Record<string, unknown>;
    secret?: string | null;
    query?: string;
    deliveredSeq?: number;
    paused?: boolean;
    name?: string;
  },
): Promise<string> {
  const id = newId("str");
  const box = loadSecretBox(z.object(secretsEnv).parse(process.env).SECRETS_KEY_FILE);
  await pool.query(
    `INSERT INTO log_streams (id, org_id, name, destination_type, destination, secret_sealed,
       secret_hint, query, delivered_seq, paused, created_by)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'usr_test')`,
    [
      id,
      input.orgId,
      input.name ?? `stream ${id.slice(-6)}`,
      input.destination.type,
      JSON.stringify(input.destination),
      input.secret ? box.seal(input.secret) : null,
      input.secret ? input.secret.slice(-4) : null,
      input.query ?? "",
      input.deliveredSeq ?? 0,
      input.paused ?? false,
    ],
  );
  return id;
}

export interface StreamRow {
  delivered_seq: number;
  paused: boolean;
  failing_since: Date | null;
  failing_notified_at: Date | null;
  consecutive_failures: number;
  next_attempt_at: Date | null;
  last_error: string | null;
  last_success_at: Date | null;
  lease_owner: string | null;
}

export async function readStream(pool: Pool, id: string): Promise<StreamRow> {
  const { rows } = await pool.query<StreamRow>(
    `SELECT delivered_seq::float8 AS delivered_seq, paused, failing_since, failing_notified_at,
       consecutive_failures, next_attempt_at, last_error, last_success_at, lease_owner
     FROM log_streams WHERE id = $1`,
    [id],
  );
  if (!rows[0]) throw new Error(`no stream ${id}`);
  return rows[0];
}

/** The ids of an organisation's entries matching a SQL condition, by seq. */
export async function storedIds(pool: Pool, orgId: string, where = "true"): Promise<string[]> {
  const { rows } = await pool.query<{ id: string }>(
    `SELECT id FROM audit_entries WHERE org_id = $1 AND ${where} ORDER BY seq`,
    [orgId],
  );
  return rows.map((row) => row.id);
}

/** One request a receiver took: the entries' ids and seqs, in the request's order. */
export interface ReceivedBatch {
  ids: string[];
  seqs: number[];
  status: number;
}

/**
 * The receiver's view of a delivery: every batch it accepted is in `seq` order; the ids it holds,
 * first deliveries in order, are exactly `expected`; and an id seen again is a redelivery of the
 * same entry (same seq), never another entry under its id.
 */
export function checkDeliveries(batches: readonly ReceivedBatch[], expected: readonly string[]) {
  const seqOf = new Map<string, number>();
  let redelivered = 0;
  const firstOrder: string[] = [];
  for (const batch of batches) {
    for (let i = 1; i < batch.seqs.length; i++) {
      if ((batch.seqs[i] as number) <= (batch.seqs[i - 1] as number)) {
        throw new Error(
          `a batch is not in seq order: ${batch.seqs.slice(i - 1, i + 1).join(", ")}`,
        );
      }
    }
    batch.ids.forEach((id, i) => {
      const seq = batch.seqs[i] as number;
      const known = seqOf.get(id);
      if (known === undefined) {
        seqOf.set(id, seq);
        firstOrder.push(id);
      } else {
        if (known !== seq) throw new Error(`${id} came with seq ${known} and ${seq}`);
        redelivered++;
      }
    });
  }
  const wanted = new Set(expected);
  const missing = expected.filter((id) => !seqOf.has(id));
  const extra = firstOrder.filter((id) => !wanted.has(id));
  return { unique: seqOf.size, redelivered, missing, extra, firstOrder };
}

/**
 * A receiver for the interim JSON sender below: `POST /` with `{ entries }`, answering what
 * `respond` says (200 by default) and recording the batches it accepted. `stop` closes it (the
 * port then refuses connections); `start` opens it again on the same port.
 */
export async function startJsonReceiver(
  options: { respond?: (batch: ReceivedBatch) => number | Promise<number> } = {},
) {
  const accepted: ReceivedBatch[] = [];
  const refused: ReceivedBatch[] = [];
  let respond = options.respond ?? (() => 200);
  const sockets = new Set<import("node:net").Socket>();
  const handle = async (request: IncomingMessage, response: ServerResponse) => {
    const chunks: Buffer[] = [];
    for await (const chunk of request) chunks.push(chunk as Buffer);
    const body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
      entries: { id: string; seq: number }[];
    };
    const batch: ReceivedBatch = {
      ids: body.entries.map((e) => e.id),
      seqs: body.entries.map((e) => e.seq),
      status: 0,
    };
    batch.status = await respond(batch);
    (batch.status < 300 ? accepted : refused).push(batch);
    response.writeHead(batch.status).end();
  };
  let server: Server | undefined;
  let port = 0;
  const start = () =>
    new Promise<void>((resolve) => {
      server = createServer((request, response) => {
        handle(request, response).catch(() => response.writeHead(400).end());
      });
      server.on("connection", (socket) => {
        sockets.add(socket);
        socket.on("close", () => sockets.delete(socket));
      });
      server.listen(port, "127.0.0.1", () => {
        port = (server?.address() as AddressInfo).port;
        resolve();
      });
    });
  await start();
  return {
    accepted,
    refused,
    get url() {
      return `http://127.0.0.1:${port}/`;
    },
    setRespond(next: (batch: ReceivedBatch) => number | Promise<number>) {
      respond = next;
    },
    start,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server?.close(() => resolve());
      }),
  };
}

/**
 * Stands in for the destination senders (another branch) in tests of the delivery loop: POSTs
 * `{ entries }` as JSON to an https destination's URL. 2xx delivered, 408/429/5xx and network
 * errors retry, any other status rejected, as the real senders classify.
 */
export const jsonPostSender: CreateDestinationSender = (destination, _secret, deps) => ({
  async send(batch, options) {
    if (destination.type !== "https") return { kind: "refused", reason: "https only" };
    try {
      const response = await fetch(destination.url, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ entries: batch.entries }),
        signal: options?.signal ?? AbortSignal.timeout(deps.timeoutMs),
      });
      await response.arrayBuffer();
      const status = response.status;
      if (status < 300) return { kind: "delivered", status };
      if (status === 408 || status === 429 || status >= 500) {
        return { kind: "retry", reason: `HTTP ${status}`, status };
      }
      return { kind: "rejected", reason: `HTTP ${status}`, status };
    } catch (error) {
      return { kind: "retry", reason: (error as Error).message, status: null };
    }
  },
});

export type { Database };
