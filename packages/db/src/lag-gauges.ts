import { type Database, sqlOf } from "./database.ts";

/** What the signed checkpoints have not covered yet, over every organisation. */
export interface CheckpointLag {
  /** Organisations whose log holds entries no signed checkpoint covers. */
  orgsBehind: number;
  /** Entries not covered, summed over those organisations. */
  entriesBehind: number;
  /** The largest number of uncovered entries in one organisation's log. */
  maxEntriesBehind: number;
}

/**
 * One aggregate over the log counters and the trees (one row per organisation each): a tree is
 * written in the same statement as its signed checkpoint, so the tree's size is the size of the
 * latest checkpoint.
 */
export async function readCheckpointLag(db: Database): Promise<CheckpointLag> {
  const { rows } = await sqlOf(db).query<{ orgs: number; total: number; most: number }>(
    `SELECT count(*)::float8 AS orgs,
            COALESCE(sum(h.size - COALESCE(t.size, 0)), 0)::float8 AS total,
            COALESCE(max(h.size - COALESCE(t.size, 0)), 0)::float8 AS most
     FROM audit_log_heads h LEFT JOIN audit_log_trees t USING (org_id)
     WHERE h.size > COALESCE(t.size, 0)`,
  );
  const row = rows[0] ?? { orgs: 0, total: 0, most: 0 };
  return { orgsBehind: row.orgs, entriesBehind: row.total, maxEntriesBehind: row.most };
}

/** How far the log streams (issue 17) are behind their organisations' logs. */
export interface StreamLag {
  /** Streams not paused. */
  streams: number;
  /** Entries appended to the logs after each stream's cursor, summed over the streams. */
  entriesBehind: number;
  /** The largest of those per stream. */
  maxEntriesBehind: number;
}

/**
 * One aggregate over the streams not paused: log size minus the stream's cursor. An upper
 * bound when the stream has a filter (entries it skips count until its cursor passes them).
 * Zero streams: zeros.
 */
export async function readStreamLag(db: Database): Promise<StreamLag> {
  const { rows } = await sqlOf(db).query<{ streams: number; total: number; most: number }>(
    `SELECT count(*)::float8 AS streams,
            COALESCE(sum(GREATEST(COALESCE(h.size, 0) - s.delivered_seq, 0)), 0)::float8 AS total,
            COALESCE(max(GREATEST(COALESCE(h.size, 0) - s.delivered_seq, 0)), 0)::float8 AS most
     FROM log_streams s LEFT JOIN audit_log_heads h USING (org_id)
     WHERE NOT s.paused`,
  );
  const row = rows[0] ?? { streams: 0, total: 0, most: 0 };
  return { streams: row.streams, entriesBehind: row.total, maxEntriesBehind: row.most };
}
