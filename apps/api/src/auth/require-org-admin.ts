import { findOrgMembership, planHasAuditLogs, planLacksAuditLogs } from "@auditlog/db";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/**
 * For routes with an organisation slug parameter (`:org` unless told otherwise), after
 * `userAuth`: lets through only admins of an organisation whose plan has audit logs, and sets
 * `c.var.org`. A missing organisation and one the user is not a member of answer the same 404,
 * so the API never reveals which organisations exist.
 */
export function requireOrgAdmin(options: { param?: string } = {}) {
  const param = options.param ?? "org";
  return createMiddleware<AppEnv>(async (c, next) => {
    const user = c.get("user");
    if (!user) throw new ApiError("unauthorized", "sign in first");
    const slug = c.req.param(param) ?? "";
    const found = await findOrgMembership(c.var.services.db, slug, user.id);
    if (!found) throw new ApiError("not_found", "organization not found");
    const { org, role } = found;
    if (role !== "admin") {
      throw new ApiError("forbidden", `only admins of ${org.slug} can read its audit log`);
    }
    if (!planHasAuditLogs(org.plan)) {
      throw new ApiError("forbidden", planLacksAuditLogs(org));
    }
    c.set("org", org);
    await next();
  });
}
