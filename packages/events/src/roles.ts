/**
 * The roles a member has in an organisation (`memberships.role`): the one list the database's
 * check, the API, the CLI, the console and single sign-on's claim mapping all use.
 *
 * - `admin`: everything, including what changes the organisation's settings.
 * - `auditor`: reads, searches, exports and verifies the log, sees its streams and alerts (and
 *   its retention and erasures); changes nothing.
 * - `write`, `read`: the member's role in the product whose activity the log records; neither
 *   gives access to the audit log.
 *
 * No zod here: the console's first screen asks `roleCan`, and zod stays off it (the schemas are
 * in role-schemas.ts).
 */
export const memberRoles = ["admin", "auditor", "write", "read"] as const;
export type MemberRole = (typeof memberRoles)[number];

/**
 * What a route asks of a member's role: `readLog` (the log, its proofs and exports, and the
 * organisation's settings shown read-only) or `administer` (any change to the organisation).
 */
export const permissions = ["readLog", "administer"] as const;
export type Permission = (typeof permissions)[number];

/** The role matrix: the permissions each role holds. */
export const rolePermissions: Record<MemberRole, readonly Permission[]> = {
  admin: ["readLog", "administer"],
  auditor: ["readLog"],
  write: [],
  read: [],
};

/** Whether `role` (any string: a stored role, or none) holds `permission`. */
export function roleCan(role: string | null | undefined, permission: Permission): boolean {
  if (!role || !Object.hasOwn(rolePermissions, role)) return false;
  return rolePermissions[role as MemberRole].includes(permission);
}

/** The roles that hold `permission`, in `memberRoles` order. */
export function rolesThatCan(permission: Permission): MemberRole[] {
  return memberRoles.filter((role) => rolePermissions[role].includes(permission));
}
