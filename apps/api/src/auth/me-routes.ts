import {
  createPersonalAccessToken,
  listPersonalAccessTokens,
  listUserMemberships,
  planHasAuditLogs,
  plans,
  revokePersonalAccessToken,
  roles,
} from "@auditlog/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, pathParam } from "../openapi/describe.ts";
import { generatePersonalAccessToken } from "./personal-access-tokens.ts";
import { userAuth } from "./user-auth.ts";

const meSchema = z.object({
  user: z.object({ id: z.string(), email: z.string(), name: z.string() }),
  organizations: z.array(
    z.object({
      id: z.string(),
      slug: z.string(),
      name: z.string(),
      plan: z.enum(plans),
      role: z.enum(roles),
      hasAuditLogs: z.boolean(),
      upgradeUrl: z
        .string()
        .nullable()
        .meta({ description: "Where to upgrade a plan without audit logs" }),
    }),
  ),
  csrfToken: z
    .string()
    .optional()
    .meta({ description: "With a cookie session: the X-CSRF-Token value" }),
});

/** A personal access token as listed (never its value). */
const tokenSchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string(),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  expiresAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

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
  .get(
    "/",
    documented({
      tag: "Me",
      summary: "Who is signed in, and their organisations",
      auth: "user",
      responses: {
        200: json(meSchema, "The user, their organisations and (cookie session) the CSRF token"),
      },
    }),
    async (c) => {
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
    },
  )
  /** A new personal access token, shown once. */
  .post(
    "/tokens",
    documented({
      tag: "Me",
      summary: "Create a personal access token; its value is shown once",
      description:
        "Only with a cookie session (403 with a token: a leaked token must not mint others).",
      auth: "user",
      unsafe: true,
      body: { schema: createTokenSchema },
      responses: {
        201: json(
          tokenSchema.extend({ token: z.string().meta({ description: "alp_…, shown once" }) }),
          "The token",
        ),
      },
    }),
    async (c) => {
      if (c.var.authMethod !== "session") {
        // A leaked token must not be able to mint longer-lived ones.
        throw new ApiError(
          "forbidden",
          "personal access tokens can only be created when signed in",
        );
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
    },
  )
  .get(
    "/tokens",
    documented({
      tag: "Me",
      summary: "My personal access tokens",
      auth: "user",
      responses: {
        200: json(z.object({ tokens: z.array(tokenSchema) }), "Tokens, without their values"),
      },
    }),
    async (c) => {
      const tokens = await listPersonalAccessTokens(c.var.services.db, c.var.user.id);
      return c.json({ tokens: tokens.map(publicToken) });
    },
  )
  .delete(
    "/tokens/:id",
    documented({
      tag: "Me",
      summary: "Revoke one of my personal access tokens",
      auth: "user",
      unsafe: true,
      parameters: [pathParam("id", "The token's id")],
      responses: { 200: json(tokenSchema, "The revoked token") },
      errors: [404],
    }),
    async (c) => {
      const revoked = await revokePersonalAccessToken(c.var.services.db, {
        userId: c.var.user.id,
        id: c.req.param("id"),
      });
      if (!revoked) throw new ApiError("not_found", "token not found");
      return c.json(publicToken(revoked));
    },
  );
