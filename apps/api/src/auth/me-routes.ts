import {
  createPersonalAccessToken,
  listPersonalAccessTokens,
  listUserMemberships,
  planHasAuditLogs,
  revokePersonalAccessToken,
} from "@auditlog/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { generatePersonalAccessToken } from "./personal-access-tokens.ts";
import { userAuth } from "./user-auth.ts";

const createTokenSchema = z.object({
  name: z.string().trim().min(1, "is required").max(100),
  expiresInDays: z.number().int().min(1).max(3650).optional(),
});

function publicToken(token: Awaited<ReturnType<typeof listPersonalAccessTokens>>[number]) {
  return {
    id: token.id,
    name: token.name,
    prefix: token.prefix,
    createdAt: token.createdAt,
    lastUsedAt: token.lastUsedAt,
    expiresAt: token.expiresAt,
    revokedAt: token.revokedAt,
  };
}

export const meRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests)
  /** Who is signed in, and the organisations they belong to (for the console's switcher). */
  .get("/", async (c) => {
    const { user, session } = c.var;
    const memberships = await listUserMemberships(c.var.services.db, user.id);
    return c.json({
      user: { id: user.id, email: user.email, name: user.name },
      organizations: memberships.map(({ org, role }) => ({
        ...org,
        role,
        hasAuditLogs: planHasAuditLogs(org.plan),
        /** Where to upgrade a plan without audit logs (PLAN_UPGRADE_URL); null when it has them. */
        upgradeUrl: planHasAuditLogs(org.plan)
          ? null
          : c.var.services.env.PLAN_UPGRADE_URL.replaceAll("{org}", encodeURIComponent(org.slug)),
      })),
      ...(session ? { csrfToken: session.csrfToken } : {}),
    });
  })
  /** A new personal access token, shown once. */
  .post("/tokens", async (c) => {
    if (c.var.authMethod !== "session") {
      // A leaked token must not be able to mint longer-lived ones.
      throw new ApiError("forbidden", "personal access tokens can only be created when signed in");
    }
    const input = await readJsonBody(c, createTokenSchema);
    const generated = generatePersonalAccessToken();
    const token = await createPersonalAccessToken(c.var.services.db, {
      userId: c.var.user.id,
      name: input.name,
      prefix: generated.prefix,
      tokenHash: generated.hash,
      expiresAt: input.expiresInDays
        ? new Date(Date.now() + input.expiresInDays * 24 * 3600 * 1000)
        : null,
    });
    return c.json({ ...publicToken(token), token: generated.token }, 201);
  })
  .get("/tokens", async (c) => {
    const tokens = await listPersonalAccessTokens(c.var.services.db, c.var.user.id);
    return c.json({ tokens: tokens.map(publicToken) });
  })
  .delete("/tokens/:id", async (c) => {
    const revoked = await revokePersonalAccessToken(c.var.services.db, {
      userId: c.var.user.id,
      id: c.req.param("id"),
    });
    if (!revoked) throw new ApiError("not_found", "token not found");
    return c.json(publicToken(revoked));
  });
