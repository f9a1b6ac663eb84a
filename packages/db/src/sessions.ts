import { newId } from "@auditlog/events";
import { type Database, ormOf, sqlOf } from "./database.ts";

/**
 * Data access for signing in: users by email, console sessions, personal access tokens and the
 * memberships an admin check needs. Secrets never reach this layer: callers pass SHA-256 hashes.
 */

export interface PublicUser {
  id: string;
  email: string;
  name: string;
}

const publicUserSelect = { id: true, email: true, name: true } as const;

/** The user with this email (case-insensitive), including the password hash; or null. */
export async function findUserByEmail(db: Database, email: string) {
  return ormOf(db).user.findUnique({ where: { email: email.trim().toLowerCase() } });
}

// ─── Sessions ────────────────────────────────────────────────────────────────────────────────

export async function createSession(
  db: Database,
  input: { userId: string; tokenHash: Uint8Array; csrfToken: string; expiresAt: Date; now?: Date },
) {
  const now = input.now ?? new Date();
  return ormOf(db).session.create({
    data: {
      id: newId("ses", now),
      userId: input.userId,
      tokenHash: Buffer.from(input.tokenHash),
      csrfToken: input.csrfToken,
      createdAt: now,
      lastSeenAt: now,
      expiresAt: input.expiresAt,
    },
  });
}

// The three lookups every signed-in request makes (its session or token, then its membership)
// are plain SQL on the pool, one statement each: through Prisma's query compiler they cost the
// API 0.7–1.1 ms of CPU each (measured in-process, 1,000 calls), more than the page of entries
// the request was for (0.57 ms), on the event loop every other request waits for.

/** The unexpired session whose cookie hashes to `tokenHash`, with its user; or null. */
export async function findActiveSessionByTokenHash(
  db: Database,
  tokenHash: Uint8Array,
  now: Date = new Date(),
) {
  const { rows } = await sqlOf(db).query<{
    id: string;
    user_id: string;
    csrf_token: string;
    created_at: Date;
    expires_at: Date;
    last_seen_at: Date;
    email: string;
    name: string;
  }>(
    `SELECT s.id, s.user_id, s.csrf_token, s.created_at, s.expires_at, s.last_seen_at,
            u.email, u.name
       FROM sessions s JOIN users u ON u.id = s.user_id
      WHERE s.token_hash = $1`,
    [Buffer.from(tokenHash)],
  );
  const row = rows[0];
  if (!row || row.expires_at <= now) return null;
  return {
    session: {
      id: row.id,
      userId: row.user_id,
      csrfToken: row.csrf_token,
      createdAt: row.created_at,
      expiresAt: row.expires_at,
      lastSeenAt: row.last_seen_at,
    },
    user: { id: row.user_id, email: row.email, name: row.name } satisfies PublicUser,
  };
}

/**
 * Records activity and slides the expiry. Conditional on `lastSeenAt` still being older than
 * `staleBefore`, so concurrent requests write once. Returns whether this call wrote.
 */
export async function touchSession(
  db: Database,
  input: { id: string; lastSeenAt: Date; expiresAt: Date; staleBefore: Date },
): Promise<boolean> {
  const { count } = await ormOf(db).session.updateMany({
    where: { id: input.id, lastSeenAt: { lt: input.staleBefore } },
    data: { lastSeenAt: input.lastSeenAt, expiresAt: input.expiresAt },
  });
  return count > 0;
}

export async function deleteSession(db: Database, id: string): Promise<boolean> {
  const { count } = await ormOf(db).session.deleteMany({ where: { id } });
  return count > 0;
}

export async function deleteSessionByTokenHash(
  db: Database,
  tokenHash: Uint8Array,
): Promise<boolean> {
  const { count } = await ormOf(db).session.deleteMany({
    where: { tokenHash: Buffer.from(tokenHash) },
  });
  return count > 0;
}

/** Signs a user out everywhere (e.g. after a password change). */
export async function deleteUserSessions(db: Database, userId: string): Promise<number> {
  const { count } = await ormOf(db).session.deleteMany({ where: { userId } });
  return count;
}

/** Removes sessions that expired before `now`; for a periodic sweep. */
export async function deleteExpiredSessions(db: Database, now: Date = new Date()): Promise<number> {
  const { count } = await ormOf(db).session.deleteMany({ where: { expiresAt: { lte: now } } });
  return count;
}

// ─── Personal access tokens ──────────────────────────────────────────────────────────────────

/** What may be shown about a token after creation: never its hash. */
const personalAccessTokenSelect = {
  id: true,
  userId: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  expiresAt: true,
  revokedAt: true,
} as const;

export async function createPersonalAccessToken(
  db: Database,
  input: {
    userId: string;
    name: string;
    prefix: string;
    tokenHash: Uint8Array;
    expiresAt?: Date | null;
  },
) {
  return ormOf(db).personalAccessToken.create({
    data: {
      id: newId("pat"),
      userId: input.userId,
      name: input.name,
      prefix: input.prefix,
      tokenHash: Buffer.from(input.tokenHash),
      expiresAt: input.expiresAt ?? null,
    },
    select: personalAccessTokenSelect,
  });
}

/** The token (not revoked, not expired) whose value hashes to `tokenHash`, with its user. */
export async function findActivePersonalAccessTokenByHash(
  db: Database,
  tokenHash: Uint8Array,
  now: Date = new Date(),
) {
  const { rows } = await sqlOf(db).query<{
    id: string;
    user_id: string;
    name: string;
    prefix: string;
    created_at: Date;
    last_used_at: Date | null;
    expires_at: Date | null;
    revoked_at: Date | null;
    user_email: string;
    user_name: string;
  }>(
    `SELECT t.id, t.user_id, t.name, t.prefix, t.created_at, t.last_used_at, t.expires_at,
            t.revoked_at, u.email AS user_email, u.name AS user_name
       FROM personal_access_tokens t JOIN users u ON u.id = t.user_id
      WHERE t.token_hash = $1`,
    [Buffer.from(tokenHash)],
  );
  const row = rows[0];
  if (!row || row.revoked_at || (row.expires_at && row.expires_at <= now)) return null;
  return {
    token: {
      id: row.id,
      userId: row.user_id,
      name: row.name,
      prefix: row.prefix,
      createdAt: row.created_at,
      lastUsedAt: row.last_used_at,
      expiresAt: row.expires_at,
      revokedAt: row.revoked_at,
    },
    user: { id: row.user_id, email: row.user_email, name: row.user_name } satisfies PublicUser,
  };
}

/** Sets `last_used_at`, unless another request already did since `staleBefore`. */
export async function touchPersonalAccessToken(
  db: Database,
  input: { id: string; usedAt: Date; staleBefore: Date },
): Promise<boolean> {
  const { count } = await ormOf(db).personalAccessToken.updateMany({
    where: {
      id: input.id,
      OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: input.staleBefore } }],
    },
    data: { lastUsedAt: input.usedAt },
  });
  return count > 0;
}

/** A user's tokens, newest first, revoked ones included (with `revokedAt`); no secrets. */
export async function listPersonalAccessTokens(db: Database, userId: string) {
  return ormOf(db).personalAccessToken.findMany({
    where: { userId },
    select: personalAccessTokenSelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}

/**
 * Revokes one of the user's tokens. Returns the token, or null when the user has no token with
 * that id (someone else's token is indistinguishable from a missing one). Revoking twice keeps
 * the first revocation time.
 */
export async function revokePersonalAccessToken(
  db: Database,
  input: { userId: string; id: string; now?: Date },
) {
  await ormOf(db).personalAccessToken.updateMany({
    where: { id: input.id, userId: input.userId, revokedAt: null },
    data: { revokedAt: input.now ?? new Date() },
  });
  return ormOf(db).personalAccessToken.findFirst({
    where: { id: input.id, userId: input.userId },
    select: personalAccessTokenSelect,
  });
}

// ─── Memberships, for the console and admin checks ───────────────────────────────────────────

/** Every organisation the user belongs to, with their role, ordered by slug. */
export async function listUserMemberships(db: Database, userId: string) {
  const memberships = await ormOf(db).membership.findMany({
    where: { userId },
    include: { organization: true },
    orderBy: { organization: { slug: "asc" } },
  });
  return memberships.map((m) => ({
    role: m.role,
    org: {
      id: m.organization.id,
      slug: m.organization.slug,
      name: m.organization.name,
      plan: m.organization.plan,
    },
  }));
}

/**
 * The organisation with this slug and the user's role in it; null when the organisation does not
 * exist OR the user is not a member — callers must not be able to tell the two apart.
 */
export async function findOrgMembership(db: Database, orgSlug: string, userId: string) {
  const { rows } = await sqlOf(db).query<{
    id: string;
    slug: string;
    name: string;
    plan: string;
    role: string;
  }>(
    `SELECT o.id, o.slug, o.name, o.plan, m.role
       FROM organizations o JOIN memberships m ON m.org_id = o.id
      WHERE o.slug = $1 AND m.user_id = $2`,
    [orgSlug, userId],
  );
  const row = rows[0];
  if (!row) return null;
  return { org: { id: row.id, slug: row.slug, name: row.name, plan: row.plan }, role: row.role };
}

/**
 * Sets a user's password and ends every session they have; with `revokeTokens`, revokes every
 * personal access token too. One transaction: there is no moment where the new password works
 * and an old session still does. Null when no user has that email.
 */
export async function setUserPassword(
  db: Database,
  input: { email: string; passwordHash: string; revokeTokens: boolean; now?: Date },
): Promise<{ user: PublicUser; sessionsEnded: number; tokensRevoked: number } | null> {
  const email = input.email.trim().toLowerCase();
  return ormOf(db).$transaction(async (tx) => {
    const found = await tx.user.findUnique({ where: { email }, select: { id: true } });
    if (!found) return null;
    const user = await tx.user.update({
      where: { id: found.id },
      data: { passwordHash: input.passwordHash },
      select: publicUserSelect,
    });
    const sessions = await tx.session.deleteMany({ where: { userId: user.id } });
    const tokens = input.revokeTokens
      ? await tx.personalAccessToken.updateMany({
          where: { userId: user.id, revokedAt: null },
          data: { revokedAt: input.now ?? new Date() },
        })
      : { count: 0 };
    return { user, sessionsEnded: sessions.count, tokensRevoked: tokens.count };
  });
}

/** Whether a session is still there and unexpired (a long-lived stream re-checks its own). */
export async function isSessionActive(db: Database, id: string, now: Date = new Date()) {
  const found = await ormOf(db).session.findUnique({ where: { id }, select: { expiresAt: true } });
  return found !== null && found.expiresAt > now;
}

/** Whether a personal access token is still neither revoked nor expired. */
export async function isPersonalAccessTokenActive(
  db: Database,
  id: string,
  now: Date = new Date(),
) {
  const found = await ormOf(db).personalAccessToken.findUnique({
    where: { id },
    select: { revokedAt: true, expiresAt: true },
  });
  return found !== null && !found.revokedAt && (!found.expiresAt || found.expiresAt > now);
}
