import { type MemberRole, memberRoles, newId } from "@auditlog/events";
import type { PoolClient } from "pg";
import { type Database, ormOf, sqlOf } from "./database.ts";
import type { EntryCursor } from "./entry-queries.ts";

export const plans = ["free", "team", "enterprise"] as const;
export type Plan = (typeof plans)[number];
/** The member roles (`@auditlog/events` roles.ts is their one source). */
export const roles = memberRoles;
export type Role = MemberRole;

/** Plans that include audit logs (PRODUCT.md §1). */
export function planHasAuditLogs(plan: string): boolean {
  return plan === "team" || plan === "enterprise";
}

/** What an organisation without audit logs is told, wherever it asks. */
export function planLacksAuditLogs(org: { slug: string; plan: string }): string {
  return `organization "${org.slug}" is on the ${org.plan} plan, which has no audit logs; upgrade to team or enterprise`;
}

export class ConflictError extends Error {}
export class NotFoundError extends Error {}

function isUniqueViolation(error: unknown): boolean {
  return (
    typeof error === "object" && error !== null && (error as { code?: string }).code === "P2002"
  );
}

export async function createOrganization(
  db: Database,
  input: { slug: string; name: string; plan: Plan },
) {
  try {
    return await ormOf(db).organization.create({ data: { id: newId("org"), ...input } });
  } catch (error) {
    if (isUniqueViolation(error))
      throw new ConflictError(`organization "${input.slug}" already exists`);
    throw error;
  }
}

export async function findOrganizationById(db: Database, id: string) {
  return ormOf(db).organization.findUnique({ where: { id } });
}

export async function findOrganizationBySlug(db: Database, slug: string) {
  return ormOf(db).organization.findUnique({ where: { slug } });
}

/**
 * Creates the user when the email is new (with the given password hash), then adds or updates
 * their membership of the organisation.
 */
export async function upsertUserMembership(
  db: Database,
  input: { email: string; name: string; passwordHash: string; orgSlug: string; role: Role },
) {
  const email = input.email.toLowerCase();
  return ormOf(db).$transaction(async (tx) => {
    const org = await tx.organization.findUnique({ where: { slug: input.orgSlug } });
    if (!org) throw new NotFoundError(`organization "${input.orgSlug}" does not exist`);
    const user = await tx.user.upsert({
      where: { email },
      create: { id: newId("usr"), email, name: input.name, passwordHash: input.passwordHash },
      update: { passwordHash: input.passwordHash },
    });
    const membership = await tx.membership.upsert({
      where: { orgId_userId: { orgId: org.id, userId: user.id } },
      create: { orgId: org.id, userId: user.id, role: input.role },
      update: { role: input.role },
    });
    return { user, org, membership };
  });
}

/** What may be shown about an API key after creation: never its hash. */
const apiKeySelect = {
  id: true,
  name: true,
  prefix: true,
  createdAt: true,
  lastUsedAt: true,
  revokedAt: true,
} as const;

export async function createApiKeyRecord(
  db: Database,
  input: { orgSlug: string; name: string; prefix: string; keyHash: Uint8Array },
) {
  const org = await ormOf(db).organization.findUnique({ where: { slug: input.orgSlug } });
  if (!org) throw new NotFoundError(`organization "${input.orgSlug}" does not exist`);
  const key = await ormOf(db).apiKey.create({
    data: {
      id: newId("key"),
      orgId: org.id,
      name: input.name,
      prefix: input.prefix,
      keyHash: Buffer.from(input.keyHash),
    },
    select: apiKeySelect,
  });
  return { key, org };
}

/**
 * The organisation an active (not revoked) API key writes to, with the key's id; or null. Plain
 * SQL on the pool: every API process re-checks each key it serves once a second, and Prisma's
 * query compiler spent about 3.7 ms of CPU on each of these (pg: 0.65 ms), on the event loop the
 * ingest requests wait for.
 */
export async function findOrgByApiKeyHash(db: Database, keyHash: Uint8Array) {
  const { rows } = await sqlOf(db).query<{
    key_id: string;
    last_used_at: Date | null;
    id: string;
    slug: string;
    name: string;
    plan: string;
    created_at: Date;
  }>(
    `SELECT k.id AS key_id, k.last_used_at, o.id, o.slug, o.name, o.plan, o.created_at
       FROM api_keys k JOIN organizations o ON o.id = k.org_id
      WHERE k.key_hash = $1 AND k.revoked_at IS NULL`,
    [Buffer.from(keyHash)],
  );
  const row = rows[0];
  if (!row) return null;
  return {
    keyId: row.key_id,
    lastUsedAt: row.last_used_at,
    org: { id: row.id, slug: row.slug, name: row.name, plan: row.plan, createdAt: row.created_at },
  };
}

/**
 * `findOrgByApiKeyHash` for many keys in one statement (an API process re-checking the keys in
 * use together): the organisation of each key that exists and is not revoked, by the key's
 * SHA-256 in base64. A key absent from the answer is unknown or revoked.
 */
export async function findOrgsByApiKeyHashes(db: Database, keyHashes: readonly Uint8Array[]) {
  const { rows } = await sqlOf(db).query<{
    key_hash: Buffer;
    key_id: string;
    id: string;
    slug: string;
    plan: string;
  }>(
    `SELECT k.key_hash, k.id AS key_id, o.id, o.slug, o.plan
       FROM api_keys k JOIN organizations o ON o.id = k.org_id
      WHERE k.key_hash = ANY($1::bytea[]) AND k.revoked_at IS NULL`,
    [keyHashes.map((hash) => Buffer.from(hash))],
  );
  return new Map(
    rows.map((row) => [
      row.key_hash.toString("base64"),
      { keyId: row.key_id, org: { id: row.id, slug: row.slug, plan: row.plan } },
    ]),
  );
}

/** The organisation's ingestion keys, newest first, revoked ones included; no secrets. */
export async function listApiKeys(db: Database, orgId: string) {
  return ormOf(db).apiKey.findMany({
    where: { orgId },
    select: apiKeySelect,
    orderBy: [{ createdAt: "desc" }, { id: "desc" }],
  });
}

/**
 * Revokes one of the organisation's keys. Returns the key, or null when the organisation has no
 * key with that id (another organisation's key is indistinguishable from a missing one).
 * Revoking twice keeps the first revocation time.
 */
export async function revokeApiKey(db: Database, input: { orgId: string; id: string; now?: Date }) {
  await ormOf(db).apiKey.updateMany({
    where: { id: input.id, orgId: input.orgId, revokedAt: null },
    data: { revokedAt: input.now ?? new Date() },
  });
  return ormOf(db).apiKey.findFirst({
    where: { id: input.id, orgId: input.orgId },
    select: apiKeySelect,
  });
}

/**
 * Sets `last_used_at` of many keys in one statement, each to its own `usedAt`, unless it already
 * stands within `staleMs` of it (another process wrote it since). How many were written.
 */
export async function touchApiKeys(
  db: Database,
  input: { keys: readonly { id: string; usedAt: Date }[]; staleMs: number },
): Promise<number> {
  const { rowCount } = await sqlOf(db).query(
    `UPDATE api_keys k SET last_used_at = u.used_at
       FROM unnest($1::text[], $2::timestamptz[]) AS u (id, used_at)
      WHERE k.id = u.id
        AND (k.last_used_at IS NULL OR k.last_used_at < u.used_at - $3 * interval '1 millisecond')`,
    [input.keys.map((key) => key.id), input.keys.map((key) => key.usedAt), input.staleMs],
  );
  return rowCount ?? 0;
}

/** A member of an organisation, with their role; null when the user is not one. */
export async function findOrgMember(db: Database, input: { orgId: string; userId: string }) {
  const membership = await ormOf(db).membership.findUnique({
    where: { orgId_userId: { orgId: input.orgId, userId: input.userId } },
    include: { user: { select: { id: true, email: true, name: true } } },
  });
  return membership ? { role: membership.role, user: membership.user } : null;
}

/** The organisation's members with their role, oldest membership first (for its admins). */
/**
 * Where a page of members ends: the membership's exact start (PostgreSQL's text) and the user id,
 * the same keyset shape as the log's pages, so the API encodes and checks it with the same
 * `encodeCursor` / `decodeCursor`.
 */
export type MemberCursor = EntryCursor;

/**
 * A page of the organisation's members, oldest membership first (ties by user id), by keyset:
 * `after` is the previous page's `next`. An organisation fed by SSO can have thousands.
 */
export async function listOrgMembers(
  db: Database,
  orgId: string,
  page: { limit: number; after?: MemberCursor | null },
): Promise<{
  members: {
    role: string;
    createdAt: Date;
    user: { id: string; email: string; name: string };
  }[];
  next: MemberCursor | null;
}> {
  const params: unknown[] = [orgId, page.limit + 1];
  let keyset = "";
  if (page.after) {
    params.push(page.after.time, page.after.id);
    keyset = " AND (m.created_at, m.user_id) > ($3::timestamptz, $4)";
  }
  const { rows } = await sqlOf(db).query<{
    role: string;
    created_at: Date;
    cursor_time: string;
    user_id: string;
    email: string;
    name: string;
  }>(
    `SELECT m.role, m.created_at, m.created_at::text AS cursor_time, m.user_id, u.email, u.name
     FROM memberships m JOIN users u ON u.id = m.user_id
     WHERE m.org_id = $1${keyset}
     ORDER BY m.created_at, m.user_id LIMIT $2`,
    params,
  );
  const members = rows.slice(0, page.limit);
  const last = members.at(-1);
  return {
    members: members.map((row) => ({
      role: row.role,
      createdAt: row.created_at,
      user: { id: row.user_id, email: row.email, name: row.name },
    })),
    next: rows.length > page.limit && last ? { time: last.cursor_time, id: last.user_id } : null,
  };
}

export type MembershipRemoval =
  | { removed: { role: string; user: { id: string; email: string; name: string } } }
  | { refused: "not_member" | "last_admin" };

export type MembershipRoleChange =
  | {
      changed: {
        oldRole: string;
        newRole: Role;
        user: { id: string; email: string; name: string };
      };
    }
  | { refused: "not_member" | "last_admin" | "unchanged" };

/**
 * Changes a member's role, unless that would leave the organisation without an admin. Locks the
 * organisation's memberships as `removeMembership` does; `beforeChanging` runs inside the
 * transaction after the checks (the change is recorded there): when it throws, nothing changes.
 */
export async function changeMembershipRole(
  db: Database,
  input: { orgId: string; userId: string; role: Role },
  beforeChanging: (change: {
    oldRole: string;
    newRole: Role;
    user: { id: string; email: string; name: string };
  }) => Promise<void> = async () => {},
): Promise<MembershipRoleChange> {
  return withLockedMember(db, input, async (member, client) => {
    if (member.role === input.role) return { refused: "unchanged" };
    if (member.role === "admin" && member.admins === 1) return { refused: "last_admin" };
    const change = { oldRole: member.role, newRole: input.role, user: member.user };
    await beforeChanging(change);
    await client.query("UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2", [
      input.orgId,
      input.userId,
      input.role,
    ]);
    return { changed: change };
  });
}

/**
 * Removes a member from an organisation, unless they are its last admin (an organisation without
 * one could not be managed any more). The organisation's memberships are locked while it checks,
 * so two admins removing each other cannot both succeed. `beforeRemoving` runs inside the
 * transaction, after the checks: when it throws (the removal could not be recorded), nothing is
 * removed.
 */
export async function removeMembership(
  db: Database,
  input: { orgId: string; userId: string },
  beforeRemoving: (member: {
    role: string;
    user: { id: string; email: string; name: string };
  }) => Promise<void> = async () => {},
): Promise<MembershipRemoval> {
  return withLockedMember(db, input, async (member, client) => {
    if (member.role === "admin" && member.admins === 1) return { refused: "last_admin" };
    const removed = { role: member.role, user: member.user };
    await beforeRemoving(removed);
    await client.query("DELETE FROM memberships WHERE org_id = $1 AND user_id = $2", [
      input.orgId,
      input.userId,
    ]);
    return { removed };
  });
}

/**
 * Runs `act` on one member in a transaction holding the organisation's memberships locked, so
 * two admins changing or removing each other cannot both pass the last-admin check. `act` sees
 * the member's role, account and the organisation's admin count; a refusal it answers (or a
 * member that is not there) rolls back, anything else commits, and a throw rolls back.
 */
async function withLockedMember<T extends object>(
  db: Database,
  input: { orgId: string; userId: string },
  act: (
    member: { role: string; admins: number; user: { id: string; email: string; name: string } },
    client: PoolClient,
  ) => Promise<T>,
): Promise<T | { refused: "not_member" }> {
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    const { rows } = await client.query<{ user_id: string; role: string }>(
      "SELECT user_id, role FROM memberships WHERE org_id = $1 FOR UPDATE",
      [input.orgId],
    );
    const target = rows.find((row) => row.user_id === input.userId);
    if (!target) {
      await client.query("ROLLBACK");
      return { refused: "not_member" };
    }
    const user = await client.query<{ id: string; email: string; name: string }>(
      "SELECT id, email, name FROM users WHERE id = $1",
      [input.userId],
    );
    const outcome = await act(
      {
        role: target.role,
        admins: rows.filter((row) => row.role === "admin").length,
        user: user.rows[0] ?? { id: input.userId, email: "", name: input.userId },
      },
      client,
    );
    await client.query("refused" in outcome ? "ROLLBACK" : "COMMIT");
    return outcome;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
