import { isUtf8 } from "node:buffer";
import type pg from "pg";
import { CopyOutLines } from "./copy-out-lines.ts";
import { entryLeafColumns, entryLineLeafHash, entryLineLeafHashInto } from "./entry-leaf-lines.ts";
import { setEntryLineSession } from "./entry-line-reader.ts";

// The tree builder's read (issue 14; its CPU, issue 21): the leaf hashes of each organisation's
// entries after its tree's size. It used to read whole entries through the pg driver (a row
// object, two Dates and a parsed JSON per entry) and turn each into the API's entry shape only
// to write its leaf: about a quarter of the ingest worker's CPU. The entries now come as COPY
// text lines of `entryLeafColumns` and are hashed straight from the bytes, by the code `verify`
// uses (`entryLineLeafHashInto`, with the string path for the lines it does not take), so
// the builder and `verify` compute every leaf alike.

/** An organisation's new leaves: `seqs[i]` is the entry whose leaf hash is `hashes[i]`. */
export interface LeafHashes {
  seqs: number[];
  hashes: Uint8Array[];
}

/**
 * For each organisation, the seqs and leaf hashes of its entries after `afterSeq`, in seq order,
 * at most `limit` of them, in one statement (the same nested loop over each organisation's seq
 * range as `readEntriesAfter`). Inside the caller's transaction: it sets the session's TimeZone
 * and DateStyle for that transaction (the lines' times are read as UTC ISO text). Throws, as
 * the entry path did, when an entry's leaf cannot be written (a NULL where the leaf needs text).
 */
export async function readLeafHashesAfter(
  client: pg.PoolClient,
  ranges: readonly { orgId: string; afterSeq: number }[],
  limit: number,
): Promise<Map<string, LeafHashes>> {
  const byOrg = new Map<string, LeafHashes>(
    ranges.map(({ orgId }) => [orgId, { seqs: [], hashes: [] }]),
  );
  if (ranges.length === 0) return byOrg;
  for (const { afterSeq } of ranges) {
    if (!Number.isSafeInteger(afterSeq) || !Number.isSafeInteger(afterSeq + limit)) {
      throw new RangeError("seq bounds must be integers");
    }
  }
  await setEntryLineSession(client);
  // COPY takes no parameters: the organisations and bounds are written in as literals.
  const orgs = ranges.map((r) => client.escapeLiteral(r.orgId)).join(",");
  const from = ranges.map((r) => r.afterSeq + 1).join(",");
  const to = ranges.map((r) => r.afterSeq + limit).join(",");
  const copy = new CopyOutLines(
    `COPY (SELECT r.log_org, e.* FROM unnest(ARRAY[${orgs}]::text[], ARRAY[${from}]::bigint[],
       ARRAY[${to}]::bigint[]) AS r (log_org, from_seq, to_seq)
     CROSS JOIN LATERAL (
       SELECT ${entryLeafColumns} FROM audit_entries a
       WHERE a.org_id = r.log_org AND a.seq BETWEEN r.from_seq AND r.to_seq
       OFFSET 0
     ) e) TO STDOUT`,
  );
  const lines = client.query(copy as unknown as pg.Submittable) as unknown as CopyOutLines;
  let lastOrg: { text: string; leaves: LeafHashes } | undefined;
  // A line that cannot be hashed fails the read, but only once the COPY has ended: leaving it
  // half read would leave the connection in the middle of it.
  let failure: unknown;
  for await (const chunk of lines as AsyncIterable<Buffer>) {
    // The byte path copies text as it is: only for valid UTF-8 (what PostgreSQL sends).
    const bytePath = isUtf8(chunk);
    let start = 0;
    while (start < chunk.length) {
      let end = chunk.indexOf(10, start);
      if (end === -1) end = chunk.length;
      const orgEnd = chunk.indexOf(9, start);
      // Rows come grouped by organisation (the lateral join's order), each id written as it is
      // (the organisations' ids need no COPY escape): decoded once per row, compared as text.
      const orgText = orgEnd === -1 || orgEnd > end ? "" : chunk.toString("utf8", start, orgEnd);
      if (lastOrg?.text !== orgText) {
        const leaves = byOrg.get(orgText);
        if (!leaves) {
          failure ??= new Error("a leaf line of an organisation not asked for");
          start = end + 1;
          continue;
        }
        lastOrg = { text: orgText, leaves };
      }
      const lineStart = orgEnd + 1;
      let seq = 0;
      let k = lineStart;
      for (; k < end && chunk[k] !== 9; k++) seq = seq * 10 + (chunk[k] as number) - 48;
      const hash = new Uint8Array(32);
      if (!(bytePath && entryLineLeafHashInto(orgText, chunk, lineStart, end, hash, 0))) {
        try {
          hash.set(entryLineLeafHash(orgText, chunk.toString("utf8", lineStart, end)));
        } catch (error) {
          failure ??= error;
        }
      }
      lastOrg.leaves.seqs.push(seq);
      lastOrg.leaves.hashes.push(hash);
      start = end + 1;
    }
  }
  if (failure !== undefined) throw failure;
  // Ordered here, not by the statement (see `readEntriesAfter`): the index gives each
  // organisation's rows in seq order already, so this only checks.
  for (const leaves of byOrg.values()) {
    const { seqs, hashes } = leaves;
    if (seqs.every((seq, i) => i === 0 || (seqs[i - 1] as number) < seq)) continue;
    const order = seqs.map((_, i) => i).sort((a, b) => (seqs[a] as number) - (seqs[b] as number));
    leaves.seqs = order.map((i) => seqs[i] as number);
    leaves.hashes = order.map((i) => hashes[i] as Uint8Array);
  }
  return byOrg;
}
