import { type Notification, newId } from "@auditlog/events";
import { type Database, ormOf, sqlOf } from "./database.ts";

/**
 * Data access for notifications (a user's "export ready / failed" messages) and for the one
 * webhook an organisation may configure. Routes and the worker shape the public JSON; this layer
 * returns rows with the organisation's slug joined in.
 */

export type NotificationKind = Notification["kind"];

export interface NotificationRow {
  id: string;
  userId: string;
  orgId: string;
  orgSlug: string;
  kind: NotificationKind;
  title: string;
  body: string;
  exportId: string | null;
  subjectId: string | null;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
}

/** The row as the API, the SSE stream and the console see it (packages/events `Notification`). */
export function toNotification(row: NotificationRow): Notification {
  return {
    id: row.id,
    kind: row.kind,
    title: row.title,
    body: row.body,
    orgSlug: row.orgSlug,
    exportId: row.exportId,
    subjectId: row.subjectId,
    link: row.link,
    createdAt: row.createdAt.toISOString(),
    readAt: row.readAt ? row.readAt.toISOString() : null,
  };
}

const withOrgSlug = { organization: { select: { slug: true } } } as const;

function toRow(row: {
  id: string;
  userId: string;
  orgId: string;
  kind: string;
  title: string;
  body: string;
  exportId: string | null;
  subjectId: string | null;
  link: string | null;
  createdAt: Date;
  readAt: Date | null;
  organization: { slug: string };
}): NotificationRow {
  const { organization, ...rest } = row;
  return { ...rest, kind: rest.kind as NotificationKind, orgSlug: organization.slug };
}

interface NotificationSqlRow {
  id: string;
  user_id: string;
  org_id: string;
  org_slug: string;
  kind: string;
  title: string;
  body: string;
  export_id: string | null;
  subject_id: string | null;
  link: string | null;
  created_at: Date;
  read_at: Date | null;
}

const notificationColumns = `n.id, n.user_id, n.org_id, o.slug AS org_slug, n.kind, n.title, n.body,
  n.export_id, n.subject_id, n.link, n.created_at, n.read_at`;

function fromSqlRow(row: NotificationSqlRow): NotificationRow {
  return {
    id: row.id,
    userId: row.user_id,
    orgId: row.org_id,
    orgSlug: row.org_slug,
    kind: row.kind as NotificationKind,
    title: row.title,
    body: row.body,
    exportId: row.export_id,
    subjectId: row.subject_id,
    link: row.link,
    createdAt: row.created_at,
    readAt: row.read_at,
  };
}

/**
 * Stores a notification. Idempotent per (user, export, kind): announcing the same finished export
 * again (a retried job) returns the stored one with `created: false`.
 */
export async function insertNotification(
  // Plain pg, like the other two the export notifier calls: an export-only worker then never
  // starts Prisma's query compiler (about 45 MB of RSS at the end of its first export).
  db: Database,
  input: {
    userId: string;
    orgId: string;
    kind: NotificationKind;
    title: string;
    body: string;
    exportId: string | null;
    /** The alert rule or stream the notification is about (issue 17). */
    subjectId?: string | null;
    /** A console path to open (the filtered log of an alert). */
    link?: string | null;
    now?: Date;
  },
): Promise<{ notification: NotificationRow; created: boolean }> {
  const now = input.now ?? new Date();
  const inserted = await sqlOf(db).query<NotificationSqlRow>(
    `WITH inserted AS (
       INSERT INTO notifications
         (id, user_id, org_id, kind, title, body, export_id, created_at, subject_id, link)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
       ON CONFLICT (user_id, export_id, kind) DO NOTHING
       RETURNING *)
     SELECT ${notificationColumns} FROM inserted n JOIN organizations o ON o.id = n.org_id`,
    [
      newId("ntf", now),
      input.userId,
      input.orgId,
      input.kind,
      input.title,
      input.body,
      input.exportId,
      now,
      input.subjectId ?? null,
      input.link ?? null,
    ],
  );
  const row = inserted.rows[0];
  if (row) return { notification: fromSqlRow(row), created: true };
  // Only a notification for the same export can conflict (NULL export ids never do).
  const existing = await sqlOf(db).query<NotificationSqlRow>(
    `SELECT ${notificationColumns} FROM notifications n JOIN organizations o ON o.id = n.org_id
     WHERE n.user_id = $1 AND n.export_id = $2 AND n.kind = $3`,
    [input.userId, input.exportId, input.kind],
  );
  const found = existing.rows[0];
  if (!found) throw new Error("notification conflicted but is not there");
  return { notification: fromSqlRow(found), created: false };
}

/** The user's notifications, newest first; `before` (a notification id) pages further back. */
export async function listNotifications(
  db: Database,
  input: { userId: string; unreadOnly?: boolean; limit: number; before?: string },
): Promise<NotificationRow[]> {
  let cursorFilter = {};
  if (input.before) {
    const cursor = await ormOf(db).notification.findFirst({
      where: { id: input.before, userId: input.userId },
      select: { id: true, createdAt: true },
    });
    if (!cursor) return [];
    cursorFilter = {
      OR: [
        { createdAt: { lt: cursor.createdAt } },
        { createdAt: cursor.createdAt, id: { lt: cursor.id } },
      ],
    };
  }
  const rows = await ormOf(db).notification.findMany({
    where: {
      userId: input.userId,
      ...(input.unreadOnly ? { readAt: null } : {}),
      ...cursorFilter,
    },
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
    take: input.limit,
    include: withOrgSlug,
  });
  return rows.map(toRow);
}

export async function countUnreadNotifications(db: Database, userId: string): Promise<number> {
  return ormOf(db).notification.count({ where: { userId, readAt: null } });
}

/**
 * Marks one of the user's notifications read (keeping the first read time). Null when the id is
 * not one of theirs, so another user's notification is indistinguishable from a missing one.
 */
export async function markNotificationRead(
  db: Database,
  input: { userId: string; id: string; now?: Date },
): Promise<NotificationRow | null> {
  const now = input.now ?? new Date();
  await ormOf(db).notification.updateMany({
    where: { id: input.id, userId: input.userId, readAt: null },
    data: { readAt: now },
  });
  const row = await ormOf(db).notification.findFirst({
    where: { id: input.id, userId: input.userId },
    include: withOrgSlug,
  });
  return row ? toRow(row) : null;
}

/** Marks every unread notification of the user read; returns how many changed. */
export async function markAllNotificationsRead(
  db: Database,
  input: { userId: string; now?: Date },
): Promise<number> {
  const { count } = await ormOf(db).notification.updateMany({
    where: { userId: input.userId, readAt: null },
    data: { readAt: input.now ?? new Date() },
  });
  return count;
}

// ─── Organisation webhooks ────────────────────────────────────────────────────────────────────

export interface OrgWebhookRow {
  orgId: string;
  url: string;
  secret: string;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
}

export async function findOrgWebhook(db: Database, orgId: string): Promise<OrgWebhookRow | null> {
  const { rows } = await sqlOf(db).query<OrgWebhookRow>(
    `SELECT org_id AS "orgId", url, secret, created_at AS "createdAt", updated_at AS "updatedAt",
       disabled_at AS "disabledAt"
     FROM org_webhooks WHERE org_id = $1`,
    [orgId],
  );
  return rows[0] ?? null;
}

/**
 * Creates the organisation's webhook, or changes its URL (and enables it again). The stored secret
 * is replaced by `candidateSecret` only when the webhook is new or `rotateSecret` is set; one
 * statement decides, so two concurrent calls cannot both believe they issued the secret.
 * `secretIssued` tells the caller whether to show the secret (once).
 */
export async function upsertOrgWebhook(
  db: Database,
  input: {
    orgId: string;
    url: string;
    candidateSecret: string;
    rotateSecret: boolean;
    now?: Date;
  },
): Promise<{ webhook: OrgWebhookRow; secretIssued: boolean }> {
  const now = input.now ?? new Date();
  const rows = await ormOf(db).$queryRaw<
    Array<{
      org_id: string;
      url: string;
      secret: string;
      created_at: Date;
      updated_at: Date;
      disabled_at: Date | null;
    }>
  >`
    INSERT INTO org_webhooks (org_id, url, secret, created_at, updated_at)
    VALUES (${input.orgId}, ${input.url}, ${input.candidateSecret}, ${now}, ${now})
    ON CONFLICT (org_id) DO UPDATE SET
      url = EXCLUDED.url,
      secret = CASE WHEN ${input.rotateSecret} THEN EXCLUDED.secret ELSE org_webhooks.secret END,
      updated_at = EXCLUDED.updated_at,
      disabled_at = NULL
    RETURNING org_id, url, secret, created_at, updated_at, disabled_at`;
  const row = rows[0];
  if (!row) throw new Error("upsert of org_webhooks returned no row");
  return {
    webhook: {
      orgId: row.org_id,
      url: row.url,
      secret: row.secret,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
      disabledAt: row.disabled_at,
    },
    secretIssued: row.secret === input.candidateSecret,
  };
}

/** Removes the organisation's webhook; false when it had none. */
export async function deleteOrgWebhook(db: Database, orgId: string): Promise<boolean> {
  const { count } = await ormOf(db).orgWebhook.deleteMany({ where: { orgId } });
  return count > 0;
}

/**
 * Disables the webhook the receiver asked to stop (410 Gone), unless it was changed since the
 * delivery started (a new URL deserves its own chance).
 */
export async function disableOrgWebhook(
  db: Database,
  input: { orgId: string; url: string; now?: Date },
): Promise<boolean> {
  const { count } = await ormOf(db).orgWebhook.updateMany({
    where: { orgId: input.orgId, url: input.url, disabledAt: null },
    data: { disabledAt: input.now ?? new Date() },
  });
  return count > 0;
}

// ─── Lookups the notifier needs ───────────────────────────────────────────────────────────────

/** The requester and organisation of a finished export, for its notification; null if gone. */
export async function findNotificationRecipient(
  db: Database,
  input: { userId: string; orgId: string },
): Promise<{
  user: { id: string; email: string; name: string };
  org: { id: string; slug: string; name: string };
} | null> {
  const { rows } = await sqlOf(db).query<{
    user_id: string;
    email: string;
    user_name: string;
    org_id: string;
    slug: string;
    org_name: string;
  }>(
    `SELECT u.id AS user_id, u.email, u.name AS user_name, o.id AS org_id, o.slug, o.name AS org_name
     FROM users u CROSS JOIN organizations o WHERE u.id = $1 AND o.id = $2`,
    [input.userId, input.orgId],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    user: { id: row.user_id, email: row.email, name: row.user_name },
    org: { id: row.org_id, slug: row.slug, name: row.org_name },
  };
}

/**
 * An organisation and its admins (issue 17: alerts and stream failures are told to every admin);
 * null when the organisation no longer exists. Plain pg, like the rest of the notifier's reads.
 */
export async function findOrgAdmins(
  db: Database,
  orgId: string,
): Promise<{
  org: { id: string; slug: string; name: string };
  admins: Array<{ id: string; email: string; name: string }>;
} | null> {
  const { rows } = await sqlOf(db).query<{
    org_id: string;
    slug: string;
    org_name: string;
    user_id: string | null;
    email: string | null;
    user_name: string | null;
  }>(
    `SELECT o.id AS org_id, o.slug, o.name AS org_name, u.id AS user_id, u.email,
       u.name AS user_name
     FROM organizations o
     LEFT JOIN memberships m ON m.org_id = o.id AND m.role = 'admin'
     LEFT JOIN users u ON u.id = m.user_id
     WHERE o.id = $1
     ORDER BY u.id`,
    [orgId],
  );
  const first = rows[0];
  if (!first) return null;
  return {
    org: { id: first.org_id, slug: first.slug, name: first.org_name },
    admins: rows.flatMap((row) =>
      row.user_id && row.email !== null
        ? [{ id: row.user_id, email: row.email, name: row.user_name ?? "" }]
        : [],
    ),
  };
}
