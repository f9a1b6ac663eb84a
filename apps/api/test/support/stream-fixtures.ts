import { destinationSettingsJson, loadSecretBox, secretsEnv } from "@auditlog/db";
import type { createTestPool } from "@auditlog/db/testing";
import { newId, type StreamDestination } from "@auditlog/events";
import { z } from "zod";

type Pool = ReturnType<typeof createTestPool>;

/**
 * A stream row as the API creates it (its CRUD is another module's): the settings stored as the
 * API stores them (the type in its own column, not in the JSON), the secret sealed with the
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
      destinationSettingsJson(input.destination as StreamDestination),
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

/** What a receiver of `@auditlog/streams/testing` accepted (batches or S3 objects), as ids and seqs. */
export function receivedBatches(
  batches: readonly { entries: readonly { id: string; seq: number }[] }[],
): ReceivedBatch[] {
  return batches.map((batch) => ({
    ids: batch.entries.map((entry) => entry.id),
    seqs: batch.entries.map((entry) => entry.seq),
  }));
}
