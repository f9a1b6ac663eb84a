import { listApiKeys, revokeApiKey } from "@auditlog/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam, pathParam } from "../openapi/describe.ts";
import { apiKeyNameSchema, issueApiKey, publicApiKey } from "./api-key-service.ts";
import { requireOrgRole } from "./require-org-role.ts";
import { userAuth } from "./user-auth.ts";

/** A key as listed (never its value). */
const apiKeySchema = z.object({
  id: z.string(),
  name: z.string(),
  prefix: z.string().meta({ description: "The key's first characters, to recognise it" }),
  createdAt: z.iso.datetime(),
  lastUsedAt: z.iso.datetime().nullable(),
  revokedAt: z.iso.datetime().nullable(),
});

const createKeySchema = z.object({ name: apiKeyNameSchema });

/**
 * `/v1/orgs/:org/keys`: the organisation's ingestion keys, for its admins. A revoked key is
 * refused by every API process within two seconds (each re-checks the keys it knows every
 * second).
 */
export const apiKeyRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "API keys",
      summary: "The organisation's ingestion keys",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: {
        200: json(z.object({ keys: z.array(apiKeySchema) }), "Keys, without their values"),
      },
    }),
    async (c) => {
      const keys = await listApiKeys(c.var.services.db, c.var.org.id);
      return c.json({ keys: keys.map(publicApiKey) });
    },
  )
  /** A new key; its value is in this answer and nowhere else, ever. */
  .post(
    "/",
    documented({
      tag: "API keys",
      summary: "Issue a key; its value is in this answer and nowhere else, ever",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createKeySchema },
      bodyLimit: true,
      responses: {
        201: json(
          apiKeySchema.extend({ key: z.string().meta({ description: "alk_…, shown once" }) }),
          "The key",
        ),
      },
    }),
    limitBody(16 * 1024),
    async (c) => {
      const input = await readJsonBody(c, createKeySchema);
      const issued = await issueApiKey(c.var.services.db, {
        orgSlug: c.var.org.slug,
        name: input.name,
      });
      return c.json({ ...issued.key, key: issued.value }, 201);
    },
  )
  /** Revokes a key; revoking it again answers the same (the first revocation time). */
  .delete(
    "/:id",
    documented({
      tag: "API keys",
      summary: "Revoke a key (every API process refuses it within two seconds)",
      description: "Revoking it again answers the same (the first revocation time).",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, pathParam("id", "The key's id")],
      responses: { 200: json(apiKeySchema, "The revoked key") },
    }),
    async (c) => {
      const revoked = await revokeApiKey(c.var.services.db, {
        orgId: c.var.org.id,
        id: c.req.param("id"),
      });
      if (!revoked) throw new ApiError("not_found", "key not found");
      c.var.services.apiKeys.forget(revoked.id);
      return c.json(publicApiKey(revoked));
    },
  );
