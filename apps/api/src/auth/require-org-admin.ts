/**
 * The organisation routes' guard is `requireOrgRole()` (require-org-role.ts), which asks the
 * role policy (role-policy.ts) what each route needs; this name is kept for code written before
 * it, and is that same guard.
 */
export { requireOrgRole as requireOrgAdmin } from "./require-org-role.ts";
