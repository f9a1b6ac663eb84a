import { type Permission, rolesThatCan } from "@auditlog/events";

/**
 * Who may call each route: the one declarative policy, keyed by `METHOD path` exactly as the app
 * registers the route (`app.routes`). `requireOrgRole()` (require-org-role.ts) enforces the
 * organisation routes' entries, the OpenAPI document states them (`x-roles`), and the role
 * matrix test (test/role-matrix.test.ts) walks every registered route × every role against it
 * and fails on a route missing here. The roles behind each permission are the role matrix of
 * `@auditlog/events` (roles.ts).
 *
 * - `readLog`, `administer`: an organisation route (`userAuth` + `requireOrgRole()`), for a
 *   member whose role holds that permission.
 * - `signedIn`: any signed-in person, whatever their roles (their own account, notifications).
 * - `apiKey`: an organisation's ingestion key; no person's credential.
 * - `public`: no credential (health, the OpenAPI document, the console's files, signing in,
 *   the published checkpoint keys).
 * - `metrics`: the metrics scrape token or an allowed address.
 * - `signedLink`: authorised by the request itself (a signed export link), whoever sends it.
 * - `viewerLink`: a scoped viewer link's token (`avl_…`) only; no person's credential.
 */
export type Access =
  | Permission
  | "signedIn"
  | "apiKey"
  | "public"
  | "metrics"
  | "signedLink"
  | "viewerLink";

export const routePolicy = {
  // Operations and documentation
  "GET /healthz": "public",
  "GET /readyz": "public",
  "GET /metrics": "metrics",
  "GET /openapi.json": "public",
  "GET /docs": "public",
  "GET /docs/init.js": "public",
  "GET /docs/scalar.js": "public",
  "GET /*": "public",
  "GET /v1/checkpoint-keys": "public",
  // Ingestion
  "POST /v1/events": "apiKey",
  // The person
  "POST /v1/auth/login": "public",
  // Single sign-on: the browser's round trip through the organisation's provider
  "GET /v1/auth/sso/start": "public",
  "GET /v1/auth/sso/callback": "public",
  "POST /v1/auth/logout": "signedIn",
  "POST /v1/auth/logout-everywhere": "signedIn",
  "GET /v1/me": "signedIn",
  "POST /v1/me/tokens": "signedIn",
  "GET /v1/me/tokens": "signedIn",
  "DELETE /v1/me/tokens/:id": "signedIn",
  "GET /v1/notifications": "signedIn",
  "POST /v1/notifications/read-all": "signedIn",
  "POST /v1/notifications/:id/read": "signedIn",
  "GET /v1/notifications/stream": "signedIn",
  // The log: read, search, verify
  "GET /v1/orgs/:org/audit-logs": "readLog",
  "GET /v1/orgs/:org/audit-logs/histogram": "readLog",
  "GET /v1/orgs/:org/audit-logs/facets": "readLog",
  "GET /v1/orgs/:org/audit-logs/suggestions": "readLog",
  "GET /v1/orgs/:org/audit-logs/:id": "readLog",
  "GET /v1/orgs/:org/audit-logs/feed": "readLog",
  "GET /v1/orgs/:org/audit-logs/checkpoint": "readLog",
  "GET /v1/orgs/:org/audit-logs/consistency": "readLog",
  "GET /v1/orgs/:org/audit-logs/:id/proof": "readLog",
  "GET /v1/orgs/:org/audit-logs/verify": "readLog",
  // Exports (making one changes nothing of the organisation)
  "POST /v1/orgs/:org/exports": "readLog",
  "GET /v1/orgs/:org/exports": "readLog",
  "GET /v1/orgs/:org/exports/:id": "readLog",
  "GET /v1/orgs/:org/exports/:id/download": "readLog",
  "GET /v1/orgs/:org/exports/:id/manifest": "readLog",
  "POST /v1/orgs/:org/exports/:id/link": "readLog",
  "GET /v1/export-downloads/:id": "signedLink",
  "GET /api/organizations/:org/audit-log/export": "readLog",
  // A person's own saved filters of the log
  "GET /v1/orgs/:org/views": "readLog",
  "POST /v1/orgs/:org/views": "readLog",
  "DELETE /v1/orgs/:org/views/:id": "readLog",
  // Settings an auditor sees but does not change
  "GET /v1/orgs/:org/retention": "readLog",
  "PUT /v1/orgs/:org/retention": "administer",
  "GET /v1/orgs/:org/erasures": "readLog",
  "POST /v1/orgs/:org/erasures": "administer",
  "GET /v1/orgs/:org/streams": "readLog",
  "GET /v1/orgs/:org/streams/:id": "readLog",
  "POST /v1/orgs/:org/streams": "administer",
  "PATCH /v1/orgs/:org/streams/:id": "administer",
  "POST /v1/orgs/:org/streams/:id/test": "administer",
  "DELETE /v1/orgs/:org/streams/:id": "administer",
  "GET /v1/orgs/:org/alerts": "readLog",
  "GET /v1/orgs/:org/alerts/:id": "readLog",
  "POST /v1/orgs/:org/alerts": "administer",
  "PATCH /v1/orgs/:org/alerts/:id": "administer",
  "DELETE /v1/orgs/:org/alerts/:id": "administer",
  // Admin only, reads included: secrets (the webhook's signing secret), credentials, members,
  // and refused events (raw payloads)
  "GET /v1/orgs/:org/webhook": "administer",
  "PUT /v1/orgs/:org/webhook": "administer",
  "DELETE /v1/orgs/:org/webhook": "administer",
  "GET /v1/orgs/:org/keys": "administer",
  "POST /v1/orgs/:org/keys": "administer",
  "DELETE /v1/orgs/:org/keys/:id": "administer",
  "GET /v1/orgs/:org/members": "administer",
  "PATCH /v1/orgs/:org/members/:userId": "administer",
  "DELETE /v1/orgs/:org/members/:userId": "administer",
  "GET /v1/orgs/:org/dead-letters": "administer",
  // Single sign-on settings (the client secret is never answered, but the set-up is a credential)
  "GET /v1/orgs/:org/sso": "administer",
  "PUT /v1/orgs/:org/sso": "administer",
  "DELETE /v1/orgs/:org/sso": "administer",
  // Scoped viewer links: made, listed and revoked by admins, with the origins that may frame
  // the embeddable viewer; read by whoever holds one, inside its filter
  "GET /v1/orgs/:org/viewer-links": "administer",
  "POST /v1/orgs/:org/viewer-links": "administer",
  "DELETE /v1/orgs/:org/viewer-links/:id": "administer",
  "GET /v1/orgs/:org/viewer-embedding": "administer",
  "PUT /v1/orgs/:org/viewer-embedding": "administer",
  "GET /v1/viewer": "viewerLink",
  "GET /v1/viewer/entries": "viewerLink",
  "GET /v1/viewer/export": "viewerLink",
  "GET /embed/viewer.js": "public",
  "GET /embed/viewer.css": "public",
  "GET /embed/viewer/:link": "public",
} as const satisfies Record<string, Access>;

export type PolicedRoute = keyof typeof routePolicy;

/** The policy of `METHOD path` (HEAD asks what GET does); undefined for a route not in it. */
export function accessOf(method: string, path: string): Access | undefined {
  const key = `${method === "HEAD" ? "GET" : method} ${path}`;
  return Object.hasOwn(routePolicy, key) ? routePolicy[key as PolicedRoute] : undefined;
}

/** What a refused member is told: which roles may. */
export function refusal(permission: Permission, org: string): string {
  const roles = rolesThatCan(permission);
  const who =
    roles.length > 1 ? `${roles.slice(0, -1).join("s, ")}s and ${roles.at(-1)}s` : `${roles[0]}s`;
  return permission === "readLog"
    ? `only ${who} of ${org} can read its audit log`
    : `only ${who} of ${org} can change its settings`;
}
