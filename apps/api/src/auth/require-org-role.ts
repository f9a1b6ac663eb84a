import { findOrgMembership, planHasAuditLogs, planLacksAuditLogs } from "@auditlog/db";
import { type Permission, permissions, roleCan } from "@auditlog/events";
import { createMiddleware } from "hono/factory";
import { matchedRoutes } from "hono/route";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { accessOf, refusal } from "./role-policy.ts";

/**
 * Where the role policy (role-policy.ts) is enforced, for every route with an organisation slug
 * parameter (`:org` unless told otherwise), after `userAuth`. The route answering the request is
 * looked up in the policy, and the caller's role in the organisation must hold the permission
 * it names (`readLog` or `administer`); otherwise 403. A route the policy does not name as an
 * organisation route is refused too (fail closed: a route added without a policy entry answers
 * 403 to everyone, and the role matrix test names it). A missing organisation and one the user
 * is not a member of answer the same 404, so the API never reveals which organisations exist.
 * Sets `c.var.org` and `c.var.role`.
 */
export function requireOrgRole(options: { param?: string } = {}) {
  const param = options.param ?? "org";
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    if (!user) throw new ApiError("unauthorized", "sign in first");
    const permission = routePermission(c);
    const slug = c.req.param(param) ?? "";
    const found = await findOrgMembership(c.var.services.db, slug, user.id);
    if (!found) throw new ApiError("not_found", "organization not found");
    const { org, role } = found;
    if (!permission) {
      throw new ApiError("forbidden", `no role of ${org.slug} may use this route`);
    }
    if (!roleCan(role, permission)) throw new ApiError("forbidden", refusal(permission, org.slug));
    if (!planHasAuditLogs(org.plan)) {
      throw new ApiError("forbidden", planLacksAuditLogs(org));
    }
    c.set("org", org);
    c.set("role", role);
    await next();
  });
}

/**
 * The permission the policy asks for the route that will answer: the first route registered
 * for this request's method after the middleware (the middleware themselves register as ALL).
 */
function routePermission(c: Parameters<Parameters<typeof createMiddleware<AppEnv>>[0]>[0]) {
  const route = matchedRoutes(c)
    .slice(c.req.routeIndex + 1)
    .find((candidate) => candidate.method !== "ALL");
  if (!route) return undefined;
  const access = accessOf(route.method, route.path);
  return (permissions as readonly string[]).includes(access ?? "")
    ? (access as Permission)
    : undefined;
}
