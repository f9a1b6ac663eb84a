import { type Notification, newId } from "@auditlog/events";
import type { PrismaClient } from "./generated/prisma/client.ts";

/**
 * Data access for notifications (a user's "export ready / failed" messages) and for the one
 * webhook an organisation may configure. Routes and the worker shape the public JSON; this layer
 * returns rows with the organisation's slug joined in.
 */

export type NotificationKind = "export.ready" | "export.failed";

export interface NotificationRow {
  id: string;
  userId: string;
  orgId: string;
  orgSlug: string;
  kind: NotificationKind;
  title: string;
  body: string;
  exportId: string | null;
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
  createdAt: Date;
  readAt: Date | null;
  organization: { slug: string };
}): NotificationRow {
  const { organization, ...rest } = row;
  return { ...rest, kind: rest.kind as NotificationKind, orgSlug: organization.slug };
}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: string }).code === "P2002"
  );
}

/**
 * Stores a notification. Idempotent per (user, export, kind): announcing the same finished export
 * again (a retried job) returns the stored one with `created: false`.
 */
export async function insertNotification(
  prisma: PrismaClient,
  input: {
    userId: string;
    orgId: string;
    kind: NotificationKind;
    title: string;
    body: string;
    exportId: string | null;
    now?: Date;
  },
): Promise<{ notification: NotificationRow; created: boolean }> {
  const now = input.now ?? new Date();
  try {
    const row = await prisma.notification.create({
      data: {
        id: newId("ntf", now),
        userId: input.userId,
        orgId: input.orgId,
        kind: input.kind,
        title: input.title,
        body: input.body,
        exportId: input.exportId,
        createdAt: now,
      },
      include: withOrgSlug,
    });
    return { notification: toRow(row), created: true };
  } catch (error) {
    if (!isUniqueViolation(error) || input.exportId === null) throw error;
    const existing = await prisma.notification.findFirst({
      where: { userId: input.userId, exportId: input.exportId, kind: input.kind },
      include: withOrgSlug,
    });
    if (!existing) throw error;
    return { notification: toRow(existing), created: false };
  }
}

/** The user's notifications, newest first; `before` (a notification id) pages further back. */
export async function listNotifications(
  prisma: PrismaClient,
  input: { userId: string; unreadOnly?: boolean; limit: number; before?: string },
): Promise<NotificationRow[]> {
  let cursorFilter = {};
  if (input.before) {
    const cursor = await prisma.notification.findFirst({
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
  const rows = await prisma.notification.findMany({
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

export async function countUnreadNotifications(
  prisma: PrismaClient,
  userId: string,
): Promise<number> {
  return prisma.notification.count({ where: { userId, readAt: null } });
}

/**
 * Marks one of the user's notifications read (keeping the first read time). Null when the id is
 * not one of theirs, so another user's notification is indistinguishable from a missing one.
 */
export async function markNotificationRead(
  prisma: PrismaClient,
  input: { userId: string; id: string; now?: Date },
): Promise<NotificationRow | null> {
  const now = input.now ?? new Date();
  await prisma.notification.updateMany({
    where: { id: input.id, userId: input.userId, readAt: null },
    data: { readAt: now },
  });
  const row = await prisma.notification.findFirst({
    where: { id: input.id, userId: input.userId },
    include: withOrgSlug,
  });
  return row ? toRow(row) : null;
}

/** Marks every unread notification of the user read; returns how many changed. */
export async function markAllNotificationsRead(
  prisma: PrismaClient,
  input: { userId: string; now?: Date },
): Promise<number> {
  const { count } = await prisma.notification.updateMany({
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

export async function findOrgWebhook(
  prisma: PrismaClient,
  orgId: string,
): Promise<OrgWebhookRow | null> {
  return prisma.orgWebhook.findUnique({ where: { orgId } });
}

/**
 * Creates the organisation's webhook, or changes its URL (and enables it again). The stored secret
 * is replaced by `candidateSecret` only when the webhook is new or `rotateSecret` is set; one
 * statement decides, so two concurrent calls cannot both believe they issued the secret.
 * `secretIssued` tells the caller whether to show the secret (once).
 */
export async function upsertOrgWebhook(
  prisma: PrismaClient,
  input: {
    orgId: string;
    url: string;
    candidateSecret: string;
    rotateSecret: boolean;
    now?: Date;
  },
): Promise<{ webhook: OrgWebhookRow; secretIssued: boolean }> {
  const now = input.now ?? new Date();
  const rows = await prisma.$queryRaw<
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
export async function deleteOrgWebhook(prisma: PrismaClient, orgId: string): Promise<boolean> {
  const { count } = await prisma.orgWebhook.deleteMany({ where: { orgId } });
  return count > 0;
}

/**
 * Disables the webhook the receiver asked to stop (410 Gone), unless it was changed since the
 * delivery started (a new URL deserves its own chance).
 */
export async function disableOrgWebhook(
  prisma: PrismaClient,
  input: { orgId: string; url: string; now?: Date },
): Promise<boolean> {
  const { count } = await prisma.orgWebhook.updateMany({
    where: { orgId: input.orgId, url: input.url, disabledAt: null },
    data: { disabledAt: input.now ?? new Date() },
  });
  return count > 0;
}

// ─── Lookups the notifier needs ───────────────────────────────────────────────────────────────

/** The requester and organisation of a finished export, for its notification; null if gone. */
export async function findNotificationRecipient(
  prisma: PrismaClient,
  input: { userId: string; orgId: string },
): Promise<{
  user: { id: string; email: string; name: string };
  org: { id: string; slug: string; name: string };
} | null> {
  const [user, org] = await Promise.all([
    prisma.user.findUnique({
      where: { id: input.userId },
      select: { id: true, email: true, name: true },
    }),
    prisma.organization.findUnique({
      where: { id: input.orgId },
      select: { id: true, slug: true, name: true },
    }),
  ]);
  return user && org ? { user, org } : null;
}
