import { newId, type ParsedQuery } from "@auditlog/events";
import { type Database, type Queryable, sqlOf } from "./database.ts";
import { buildEntryFilter } from "./entry-queries.ts";

/**
 * Alert rules (issue 17, table `alert_rules`): a query over an organisation's new entries and
 * the channels told when one matches. The API manages them; the worker's alerts role evaluates
 * them (`evaluateAlertRule`), advancing each rule's cursor in the transaction that records what
 * it sent.
 */

/** The most rules one organisation may have (each is evaluated on every write of its log). */
export const maxAlertRulesPerOrg = 50;

export interface AlertRuleRow {
  id: string;
  orgId: string;
  name: string;
  query: string;
  enabled: boolean;
  notifyConsole: boolean;
  notifyEmail: boolean;
  notifyWebhook: boolean;
  /** The Slack-compatible incoming-webhook URL, sealed (SecretBox); never leaves the server. */
  slackUrlSealed: string | null;
  slackUrlHint: string | null;
  groupWindowSeconds: number;
  evaluatedSeq: number;
  windowStartedAt: Date | null;
  groupedCount: number;
  lastFiredAt: Date | null;
  createdBy: string;
  createdAt: Date;
  updatedAt: Date;
}

interface AlertRuleSqlRow {
  id: string;
  org_id: string;
  name: string;
  query: string;
  enabled: boolean;
  notify_console: boolean;
  notify_email: boolean;
  notify_webhook: boolean;
  slack_url_sealed: string | null;
  slack_url_hint: string | null;
  group_window_seconds: number;
  evaluated_seq: string;
  window_started_at: Date | null;
  grouped_count: number;
  last_fired_at: Date | null;
  created_by: string;
  created_at: Date;
  updated_at: Date;
}

function fromSqlRow(row: AlertRuleSqlRow): AlertRuleRow {
  return {
    id: row.id,
    orgId: row.org_id,
    name: row.name,
    query: row.query,
    enabled: row.enabled,
    notifyConsole: row.notify_console,
    notifyEmail: row.notify_email,
    notifyWebhook: row.notify_webhook,
    slackUrlSealed: row.slack_url_sealed,
    slackUrlHint: row.slack_url_hint,
    groupWindowSeconds: row.group_window_seconds,
    evaluatedSeq: Number(row.evaluated_seq),
    windowStartedAt: row.window_started_at,
    groupedCount: row.grouped_count,
    lastFiredAt: row.last_fired_at,
    createdBy: row.created_by,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** The log's size: the highest seq stored (entries 1..size are committed). */
const logSize = "(SELECT COALESCE((SELECT size FROM audit_log_heads WHERE org_id = $1), 0))";

export async function listAlertRules(db: Database, orgId: string): Promise<AlertRuleRow[]> {
  const { rows } = await sqlOf(db).query<AlertRuleSqlRow>(
    "SELECT * FROM alert_rules WHERE org_id = $1 ORDER BY created_at, id",
    [orgId],
  );
  return rows.map(fromSqlRow);
}

/** One rule of the organisation; null when it has none of that id (another's is "none"). */
export async function findAlertRule(
  db: Database,
  input: { orgId: string; id: string },
): Promise<AlertRuleRow | null> {
  const { rows } = await sqlOf(db).query<AlertRuleSqlRow>(
    "SELECT * FROM alert_rules WHERE org_id = $1 AND id = $2",
    [input.orgId, input.id],
  );
  return rows[0] ? fromSqlRow(rows[0]) : null;
}

export interface NewAlertRule {
  orgId: string;
  name: string;
  /** The query as given (already validated by the caller). */
  query: string;
  enabled: boolean;
  notifyConsole: boolean;
  notifyEmail: boolean;
  notifyWebhook: boolean;
  slackUrlSealed: string | null;
  slackUrlHint: string | null;
  groupWindowSeconds: number;
  createdBy: string;
}

/**
 * Runs `work` in a transaction holding the organisation's rules lock (a transaction-scoped
 * advisory lock), so the count checked against the limit is the count written.
 */
async function inRulesTransaction<T>(
  db: Database,
  orgId: string,
  work: (client: Queryable) => Promise<T>,
): Promise<T> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    await client.query("SELECT pg_advisory_xact_lock(hashtext('alert_rules:' || $1))", [orgId]);
    const result = await work(client);
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/**
 * Creates a rule that starts at the log's current size: it alerts on entries stored from now on,
 * never on the history. `beforeCommit` runs inside the transaction (the API records the change
 * in the organisation's log there: a change that cannot be recorded is not made). Null when the
 * organisation has `maxAlertRulesPerOrg` rules already.
 */
export async function createAlertRule(
  db: Database,
  input: NewAlertRule,
  beforeCommit: (rule: AlertRuleRow) => Promise<void> = async () => {},
): Promise<AlertRuleRow | null> {
  return inRulesTransaction(db, input.orgId, async (client) => {
    const counted = await client.query<{ n: number }>(
      "SELECT count(*)::int AS n FROM alert_rules WHERE org_id = $1",
      [input.orgId],
    );
    if ((counted.rows[0]?.n ?? 0) >= maxAlertRulesPerOrg) return null;
    const { rows } = await client.query<AlertRuleSqlRow>(
      `INSERT INTO alert_rules (id, org_id, name, query, enabled, notify_console, notify_email,
         notify_webhook, slack_url_sealed, slack_url_hint, group_window_seconds, evaluated_seq,
         created_by)
       VALUES ($2, $1, $3, $4, $5, $6, $7, $8, $9, $10, $11, ${logSize}, $12)
       RETURNING *`,
      [
        input.orgId,
        newId("alr"),
        input.name,
        input.query,
        input.enabled,
        input.notifyConsole,
        input.notifyEmail,
        input.notifyWebhook,
        input.slackUrlSealed,
        input.slackUrlHint,
        input.groupWindowSeconds,
        input.createdBy,
      ],
    );
    const rule = fromSqlRow(rows[0] as AlertRuleSqlRow);
    await beforeCommit(rule);
    return rule;
  });
}

export interface AlertRuleChanges {
  name?: string;
  query?: string;
  enabled?: boolean;
  notifyConsole?: boolean;
  notifyEmail?: boolean;
  notifyWebhook?: boolean;
  /** A new sealed URL and its hint, or both null to remove it. */
  slackUrl?: { sealed: string | null; hint: string | null };
  groupWindowSeconds?: number;
}

/**
 * Changes a rule; null when the organisation has no rule of that id. A new query, or enabling a
 * disabled rule, restarts it at the log's current size with its grouping window closed: the
 * rule then alerts on new entries, never on what was stored while it did not apply.
 * `beforeCommit` gets the rule before and after (to record what changed).
 */
export async function updateAlertRule(
  db: Database,
  input: { orgId: string; id: string; changes: AlertRuleChanges },
  beforeCommit: (before: AlertRuleRow, after: AlertRuleRow) => Promise<void> = async () => {},
): Promise<{ before: AlertRuleRow; after: AlertRuleRow } | null> {
  return inRulesTransaction(db, input.orgId, async (client) => {
    const found = await client.query<AlertRuleSqlRow>(
      "SELECT * FROM alert_rules WHERE org_id = $1 AND id = $2 FOR UPDATE",
      [input.orgId, input.id],
    );
    if (!found.rows[0]) return null;
    const before = fromSqlRow(found.rows[0]);
    const c = input.changes;
    const restart =
      (c.query !== undefined && c.query !== before.query) ||
      (c.enabled === true && !before.enabled);
    const { rows } = await client.query<AlertRuleSqlRow>(
      `UPDATE alert_rules SET
         name = $3, query = $4, enabled = $5, notify_console = $6, notify_email = $7,
         notify_webhook = $8, slack_url_sealed = $9, slack_url_hint = $10,
         group_window_seconds = $11, updated_at = now(),
         evaluated_seq = CASE WHEN $12 THEN ${logSize} ELSE evaluated_seq END,
         window_started_at = CASE WHEN $12 THEN NULL ELSE window_started_at END,
         grouped_count = CASE WHEN $12 THEN 0 ELSE grouped_count END
       WHERE org_id = $1 AND id = $2
       RETURNING *`,
      [
        input.orgId,
        input.id,
        c.name ?? before.name,
        c.query ?? before.query,
        c.enabled ?? before.enabled,
        c.notifyConsole ?? before.notifyConsole,
        c.notifyEmail ?? before.notifyEmail,
        c.notifyWebhook ?? before.notifyWebhook,
        c.slackUrl ? c.slackUrl.sealed : before.slackUrlSealed,
        c.slackUrl ? c.slackUrl.hint : before.slackUrlHint,
        c.groupWindowSeconds ?? before.groupWindowSeconds,
        restart,
      ],
    );
    const after = fromSqlRow(rows[0] as AlertRuleSqlRow);
    await beforeCommit(before, after);
    return { before, after };
  });
}

/** Deletes a rule; null when the organisation has none of that id. */
export async function deleteAlertRule(
  db: Database,
  input: { orgId: string; id: string },
  beforeCommit: (rule: AlertRuleRow) => Promise<void> = async () => {},
): Promise<AlertRuleRow | null> {
  return inRulesTransaction(db, input.orgId, async (client) => {
    const { rows } = await client.query<AlertRuleSqlRow>(
      "DELETE FROM alert_rules WHERE org_id = $1 AND id = $2 RETURNING *",
      [input.orgId, input.id],
    );
    if (!rows[0]) return null;
    const rule = fromSqlRow(rows[0]);
    await beforeCommit(rule);
    return rule;
  });
}

// ─── Evaluation (the worker's alerts role) ────────────────────────────────────────────────────

/**
 * Organisations with an enabled rule that has work: entries past its cursor, or a grouping
 * window that has ended. The engine's safety-net poll; its wake-ups name the organisation.
 */
/** Organisations with at least one enabled alert rule (the engine's filter on wake-ups). */
export async function listOrgsWithEnabledAlertRules(db: Database): Promise<string[]> {
  const { rows } = await sqlOf(db).query<{ org_id: string }>(
    "SELECT DISTINCT org_id FROM alert_rules WHERE enabled",
  );
  return rows.map((row) => row.org_id);
}

export async function findOrgsWithDueAlertRules(db: Database, limit = 1000): Promise<string[]> {
  const { rows } = await sqlOf(db).query<{ org_id: string }>(
    `SELECT DISTINCT r.org_id
     FROM alert_rules r LEFT JOIN audit_log_heads h ON h.org_id = r.org_id
     WHERE r.enabled AND (
       r.evaluated_seq < COALESCE(h.size, 0)
       OR (r.window_started_at IS NOT NULL
           AND r.window_started_at + make_interval(secs => r.group_window_seconds) <= now()))
     LIMIT $1`,
    [limit],
  );
  return rows.map((row) => row.org_id);
}

/** The first entry a message is about: what the admins need to recognise it (no IP, no data). */
export interface AlertMatchEntry {
  id: string;
  seq: number;
  type: string;
  description: string;
  occurredAt: Date;
}

/** One message a rule's evaluation decided to send. */
export type AlertFiring =
  /** The first match after a closed window: sent at once; later matches are grouped. */
  | { kind: "first"; messageId: string; entry: AlertMatchEntry; matched: 1 }
  /** The end of a window that counted matches: "N more matches of <rule>". */
  | { kind: "more"; messageId: string; matched: number; entry: AlertMatchEntry | null };

export interface AlertEvaluation {
  rule: AlertRuleRow;
  /** The matches found in this pass and the entries scanned. */
  matched: number;
  scannedTo: number;
  /** True when entries past `scannedTo` remain (the pass was bounded): evaluate again. */
  behind: boolean;
  firings: AlertFiring[];
}

/**
 * Evaluates the organisation's enabled rules that no other worker is evaluating (rows locked
 * `FOR UPDATE SKIP LOCKED`): for each, the entries after its cursor (at most `scanLimit` seqs
 * per pass, so one evaluation never scans the whole log) that match its query are counted, the
 * grouping window is applied, and `dispatch` is called with the messages to send, still inside
 * the transaction. The cursor and the window state are written, and committed, only after
 * `dispatch` resolved: a crash before the commit sends the messages again on the next pass
 * (at least once), never loses them. `parse` turns a rule's text into a query (the caller's
 * parser; a rule whose query no longer parses is skipped, its cursor kept).
 */
export async function evaluateAlertRules(
  db: Database,
  input: {
    orgId: string;
    parse: (query: string) => ParsedQuery | null;
    scanLimit: number;
    now?: () => Date;
    dispatch: (rule: AlertRuleRow, firings: AlertFiring[]) => Promise<void>;
  },
): Promise<AlertEvaluation[]> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    const locked = await client.query<AlertRuleSqlRow>(
      `SELECT * FROM alert_rules WHERE org_id = $1 AND enabled
       ORDER BY created_at, id FOR UPDATE SKIP LOCKED`,
      [input.orgId],
    );
    const sized = await client.query<{ size: string }>(
      "SELECT COALESCE((SELECT size FROM audit_log_heads WHERE org_id = $1), 0) AS size",
      [input.orgId],
    );
    const size = Number(sized.rows[0]?.size ?? 0);
    const results: AlertEvaluation[] = [];
    for (const sqlRow of locked.rows) {
      const rule = fromSqlRow(sqlRow);
      const query = input.parse(rule.query);
      if (!query) continue;
      const now = input.now?.() ?? new Date();
      const scanTo = Math.min(size, rule.evaluatedSeq + input.scanLimit);
      let matched = 0;
      let first: AlertMatchEntry | null = null;
      if (scanTo > rule.evaluatedSeq) {
        const filter = buildEntryFilter(input.orgId, query);
        const from = filter.params.add(rule.evaluatedSeq);
        const to = filter.params.add(scanTo);
        const found = await client.query<{
          id: string;
          seq: string;
          type: string;
          description: string;
          occurred_at: Date;
          total: number;
        }>(
          `SELECT id, seq, type, description, occurred_at, count(*) OVER ()::int AS total
           FROM audit_entries
           WHERE ${filter.where} AND seq > ${from}::bigint AND seq <= ${to}::bigint
           ORDER BY seq LIMIT 1`,
          filter.params.values,
        );
        const row = found.rows[0];
        if (row) {
          matched = row.total;
          first = {
            id: row.id,
            seq: Number(row.seq),
            type: row.type,
            description: row.description,
            occurredAt: row.occurred_at,
          };
        }
      }

      // The grouping window: a first match is told at once and opens a window; matches inside
      // it are counted; when it ends with a count, one "N more" message closes it.
      const firings: AlertFiring[] = [];
      let windowStartedAt = rule.windowStartedAt;
      let groupedCount = rule.groupedCount;
      let groupFirst: AlertMatchEntry | null = null;
      const windowEnded = () =>
        windowStartedAt !== null &&
        windowStartedAt.getTime() + rule.groupWindowSeconds * 1000 <= now.getTime();
      const closeEndedWindow = () => {
        if (!windowEnded()) return;
        if (groupedCount > 0) {
          firings.push({
            kind: "more",
            messageId: `${rule.id}-m${scanTo}-${firings.length}`,
            matched: groupedCount,
            entry: groupFirst,
          });
        }
        windowStartedAt = null;
        groupedCount = 0;
        groupFirst = null;
      };
      closeEndedWindow();
      if (first) {
        if (windowStartedAt === null) {
          firings.push({
            kind: "first",
            messageId: `${rule.id}-f${first.seq}`,
            entry: first,
            matched: 1,
          });
          windowStartedAt = now;
          groupedCount = matched - 1;
        } else {
          groupedCount += matched;
          groupFirst = first;
        }
      }
      // A zero-length window ends at once: the rest of this pass's matches go in one message.
      closeEndedWindow();

      if (firings.length > 0) await input.dispatch(rule, firings);
      await client.query(
        `UPDATE alert_rules SET evaluated_seq = GREATEST(evaluated_seq, $3),
           window_started_at = $4, grouped_count = $5,
           last_fired_at = CASE WHEN $6 THEN $7::timestamptz ELSE last_fired_at END
         WHERE org_id = $1 AND id = $2`,
        [input.orgId, rule.id, scanTo, windowStartedAt, groupedCount, firings.length > 0, now],
      );
      results.push({
        rule,
        matched,
        scannedTo: scanTo,
        behind: scanTo < size,
        firings,
      });
    }
    await client.query("COMMIT");
    return results;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}

/** An organisation's slug (for the links of its alerts); null when it no longer exists. */
export async function findOrgSlug(db: Database, orgId: string): Promise<string | null> {
  const { rows } = await sqlOf(db).query<{ slug: string }>(
    "SELECT slug FROM organizations WHERE id = $1",
    [orgId],
  );
  return rows[0]?.slug ?? null;
}
