import { newId, type SsoRoleRule } from "@auditlog/events";
import { type Database, ormOf, sqlOf } from "./database.ts";

/** An organisation's OpenID Connect settings as stored (the client secret still sealed). */
export interface StoredSsoConfig {
  orgId: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  clientSecretHint: string;
  allowedDomains: string[];
  roleClaim: string;
  roleRules: SsoRoleRule[];
  defaultRole: string | null;
  requireSso: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}

export type SsoConfigValues = Omit<StoredSsoConfig, "orgId" | "createdAt" | "updatedAt">;

function toStored(row: {
  orgId: string;
  issuer: string;
  clientId: string;
  clientSecretSealed: string;
  clientSecretHint: string;
  allowedDomains: unknown;
  roleClaim: string;
  roleRules: unknown;
  defaultRole: string | null;
  requireSso: boolean;
  enabled: boolean;
  createdAt: Date;
  updatedAt: Date;
}): StoredSsoConfig {
  return {
    ...row,
    allowedDomains: (row.allowedDomains ?? []) as string[],
    roleRules: (row.roleRules ?? []) as SsoRoleRule[],
  };
}

export async function findOrgSsoConfig(
  db: Database,
  orgId: string,
): Promise<StoredSsoConfig | null> {
  const row = await ormOf(db).orgSsoConfig.findUnique({ where: { orgId } });
  return row ? toStored(row) : null;
}

/** Creates or replaces the organisation's settings; answers them and what they were before. */
export async function saveOrgSsoConfig(
  db: Database,
  orgId: string,
  values: SsoConfigValues,
  now: Date = new Date(),
): Promise<{ config: StoredSsoConfig; previous: StoredSsoConfig | null }> {
  return ormOf(db).$transaction(async (tx) => {
    const before = await tx.orgSsoConfig.findUnique({ where: { orgId } });
    const data = {
      ...values,
      allowedDomains: values.allowedDomains,
      roleRules: values.roleRules as unknown as object,
      updatedAt: now,
    };
    const row = await tx.orgSsoConfig.upsert({
      where: { orgId },
      create: { orgId, ...data, createdAt: now },
      update: data,
    });
    return { config: toStored(row), previous: before ? toStored(before) : null };
  });
}

export async function deleteOrgSsoConfig(db: Database, orgId: string): Promise<boolean> {
  const { count } = await ormOf(db).orgSsoConfig.deleteMany({ where: { orgId } });
  return count > 0;
}

/**
 * The organisations of a user that require single sign-on (enabled and `require_sso`), with the
 * user's role in each: a password sign-in is refused while this is non-empty, except for admins.
 */
export async function ssoRequiringMemberships(
  db: Database,
  userId: string,
): Promise<{ orgId: string; slug: string; name: string; role: string }[]> {
  const { rows } = await sqlOf(db).query<{
    org_id: string;
    slug: string;
    name: string;
    role: string;
  }>(
    `SELECT o.id AS org_id, o.slug, o.name, m.role
       FROM memberships m
       JOIN organizations o ON o.id = m.org_id
       JOIN org_sso_configs s ON s.org_id = m.org_id
      WHERE m.user_id = $1 AND s.require_sso AND s.enabled
      ORDER BY o.slug`,
    [userId],
  );
  return rows.map((row) => ({ orgId: row.org_id, slug: row.slug, name: row.name, role: row.role }));
}

export type SsoSignInOutcome =
  | {
      user: { id: string; email: string; name: string };
      /** A new user was created (no account had this email). */
      userCreated: boolean;
      /** The user was not a member of the organisation before this sign-in. */
      joined: boolean;
      /** The role before this sign-in, when it changed (or null when unchanged or joined). */
      previousRole: string | null;
      role: string;
    }
  | { refused: "last_admin" | "email_taken" };

/**
 * The database side of a successful OpenID Connect sign-in, in one transaction with the
 * organisation's memberships locked: the identity (org, issuer, subject) finds its user, or the
 * user with this email is linked, or a new user is created (with an unusable password hash);
 * then the membership is created with `role` or brought to it. Refused when the new role would
 * leave the organisation without an admin. `beforeCommit` runs last inside the transaction (the
 * log records the sign-in there): when it throws, nothing is kept.
 */
export async function completeSsoSignIn(
  db: Database,
  input: {
    orgId: string;
    issuer: string;
    subject: string;
    email: string;
    name: string;
    role: string;
    unusablePasswordHash: string;
    now?: Date;
  },
  beforeCommit: (outcome: Exclude<SsoSignInOutcome, { refused: string }>) => Promise<void>,
): Promise<SsoSignInOutcome> {
  const now = input.now ?? new Date();
  const email = input.email.trim().toLowerCase();
  const client = await sqlOf(db).connect();
  try {
    await client.query("BEGIN");
    const members = await client.query<{ user_id: string; role: string }>(
      "SELECT user_id, role FROM memberships WHERE org_id = $1 FOR UPDATE",
      [input.orgId],
    );
    const linked = await client.query<{ id: string; email: string; name: string }>(
      `SELECT u.id, u.email, u.name FROM sso_identities i JOIN users u ON u.id = i.user_id
        WHERE i.org_id = $1 AND i.issuer = $2 AND i.subject = $3`,
      [input.orgId, input.issuer, input.subject],
    );
    let user = linked.rows[0];
    let userCreated = false;
    if (!user) {
      const byEmail = await client.query<{ id: string; email: string; name: string }>(
        "SELECT id, email, name FROM users WHERE email = $1",
        [email],
      );
      user = byEmail.rows[0];
      if (user) {
        // An email already linked to another subject of this provider: not silently re-linked.
        const other = await client.query(
          "SELECT 1 FROM sso_identities WHERE org_id = $1 AND issuer = $2 AND user_id = $3",
          [input.orgId, input.issuer, user.id],
        );
        if (other.rowCount) {
          await client.query("ROLLBACK");
          return { refused: "email_taken" };
        }
      } else {
        const created = await client.query<{ id: string; email: string; name: string }>(
          `INSERT INTO users (id, email, name, password_hash, created_at) VALUES ($1, $2, $3, $4, $5)
           RETURNING id, email, name`,
          [newId("usr"), email, input.name, input.unusablePasswordHash, now],
        );
        user = created.rows[0] as { id: string; email: string; name: string };
        userCreated = true;
      }
      await client.query(
        `INSERT INTO sso_identities (org_id, issuer, subject, user_id, created_at, last_sign_in_at)
         VALUES ($1, $2, $3, $4, $5, $5)`,
        [input.orgId, input.issuer, input.subject, user.id, now],
      );
    } else {
      await client.query(
        `UPDATE sso_identities SET last_sign_in_at = $4
          WHERE org_id = $1 AND issuer = $2 AND subject = $3`,
        [input.orgId, input.issuer, input.subject, now],
      );
    }
    const current = members.rows.find((row) => row.user_id === user.id);
    let previousRole: string | null = null;
    if (!current) {
      await client.query(
        "INSERT INTO memberships (org_id, user_id, role, created_at) VALUES ($1, $2, $3, $4)",
        [input.orgId, user.id, input.role, now],
      );
    } else if (current.role !== input.role) {
      const admins = members.rows.filter((row) => row.role === "admin").length;
      if (current.role === "admin" && admins === 1) {
        await client.query("ROLLBACK");
        return { refused: "last_admin" };
      }
      await client.query("UPDATE memberships SET role = $3 WHERE org_id = $1 AND user_id = $2", [
        input.orgId,
        user.id,
        input.role,
      ]);
      previousRole = current.role;
    }
    const outcome = { user, userCreated, joined: !current, previousRole, role: input.role };
    await beforeCommit(outcome);
    await client.query("COMMIT");
    return outcome;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => {});
    throw error;
  } finally {
    client.release();
  }
}
