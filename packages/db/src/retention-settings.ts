import { type Database, type Queryable, sqlOf } from "./database.ts";

/**
 * An organisation's retention and legal hold (table `org_retention_settings`, issue 16), with
 * where its retained log starts (`audit_log_heads.retained_from`). What the plan allows is not
 * stored here: the caller applies the deployment's bounds (`effectiveRetentionDays`).
 */
export interface StoredRetentionSettings {
  /** The organisation's own choice in days; null follows its plan's default. */
  days: number | null;
  legalHold: boolean;
  /** Why the hold in force was placed; null when there is none. */
  legalHoldReason: string | null;
  /** The first `seq` still held; 1 when nothing was purged (or the log is empty). */
  retainedFrom: number;
}

interface SettingsSqlRow {
  days: number | null;
  legal_hold: boolean | null;
  legal_hold_reason: string | null;
  retained_from: number | null;
}

function toSettings(row: SettingsSqlRow | undefined): StoredRetentionSettings {
  return {
    days: row?.days ?? null,
    legalHold: row?.legal_hold ?? false,
    legalHoldReason: row?.legal_hold_reason ?? null,
    retainedFrom: row?.retained_from ?? 1,
  };
}

// An organisation without a settings row follows its plan, without a head has an empty log: both
// read as defaults, so the organisation row drives the join.
const selectSettings = `
  SELECT s.days, s.legal_hold, s.legal_hold_reason, h.retained_from::float8 AS retained_from
  FROM organizations o
  LEFT JOIN org_retention_settings s ON s.org_id = o.id
  LEFT JOIN audit_log_heads h ON h.org_id = o.id
  WHERE o.id = $1`;

async function readSettings(on: Queryable, orgId: string) {
  const { rows } = await on.query<SettingsSqlRow>(selectSettings, [orgId]);
  return toSettings(rows[0]);
}

export async function getOrgRetentionSettings(
  db: Database,
  orgId: string,
): Promise<StoredRetentionSettings> {
  return readSettings(sqlOf(db), orgId);
}

export interface RetentionSettingsUpdate {
  orgId: string;
  /** A new retention in days (already checked against the plan's bounds); null: the plan's default. */
  days?: number | null;
  /** Place (true) or lift (false) the legal hold. */
  legalHold?: boolean;
  /** Why the hold is placed or lifted: kept while placed, recorded either way by the caller. */
  reason?: string;
}

export interface RetentionSettingsChange {
  before: StoredRetentionSettings;
  after: StoredRetentionSettings;
  /** What moved: a repeated value moves nothing, and then nothing is written or recorded. */
  daysChanged: boolean;
  legalHoldChanged: boolean;
}

/**
 * Applies an update in one transaction: the organisation's settings row is locked (so two admins
 * saving at once see each other's value as `before`), `beforeCommit` runs with what changes (the
 * caller records it in the organisation's log; if that throws, nothing is written), then the row
 * is written. When nothing changes, neither `beforeCommit` nor the write happens.
 */
export async function updateOrgRetentionSettings(
  db: Database,
  input: RetentionSettingsUpdate,
  beforeCommit: (change: RetentionSettingsChange) => Promise<void> = async () => {},
): Promise<RetentionSettingsChange> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    await client.query(
      "INSERT INTO org_retention_settings (org_id) VALUES ($1) ON CONFLICT (org_id) DO NOTHING",
      [input.orgId],
    );
    // Not in the read itself: a row lock cannot be taken on the nullable side of an outer join.
    await client.query("SELECT 1 FROM org_retention_settings WHERE org_id = $1 FOR UPDATE", [
      input.orgId,
    ]);
    const before = await readSettings(client, input.orgId);
    const daysChanged = input.days !== undefined && input.days !== before.days;
    const legalHoldChanged = input.legalHold !== undefined && input.legalHold !== before.legalHold;
    const legalHold = legalHoldChanged ? (input.legalHold as boolean) : before.legalHold;
    const after: StoredRetentionSettings = {
      ...before,
      days: daysChanged ? (input.days as number | null) : before.days,
      legalHold,
      legalHoldReason: legalHoldChanged
        ? legalHold
          ? (input.reason ?? null)
          : null
        : before.legalHoldReason,
    };
    const change = { before, after, daysChanged, legalHoldChanged };
    if (!daysChanged && !legalHoldChanged) {
      // The row inserted above (if any) holds only defaults: keeping it changes nothing.
      await client.query("COMMIT");
      return change;
    }
    await beforeCommit(change);
    await client.query(
      `UPDATE org_retention_settings
       SET days = $2, legal_hold = $3, legal_hold_reason = $4, updated_at = now()
       WHERE org_id = $1`,
      [input.orgId, after.days, after.legalHold, after.legalHoldReason],
    );
    await client.query("COMMIT");
    return change;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
