import { deleteOrgWebhook, findOrgWebhook } from "@auditlog/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, empty, json, orgParam } from "../openapi/describe.ts";
import { setOrgWebhook } from "./webhook-config.ts";

const webhookSchema = z.object({
  url: z.string(),
  enabled: z.boolean(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
  disabledAt: z.iso.datetime().nullable(),
});

const putWebhookSchema = z.strictObject({
  url: z.string({ error: "is required" }),
  rotateSecret: z.boolean().optional(),
});

function publicWebhook(webhook: {
  url: string;
  createdAt: Date;
  updatedAt: Date;
  disabledAt: Date | null;
}) {
  return {
    url: webhook.url,
    enabled: webhook.disabledAt === null,
    createdAt: webhook.createdAt.toISOString(),
    updatedAt: webhook.updatedAt.toISOString(),
    disabledAt: webhook.disabledAt ? webhook.disabledAt.toISOString() : null,
  };
}

/**
 * `/v1/orgs/:org/webhook`: the organisation's export webhook, for its admins. PUT sets the URL
 * and answers the signing secret only when it was created or rotated (`rotateSecret: true`);
 * GET never shows it.
 */
export const orgWebhookRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Webhook",
      summary: "The organisation's export webhook (never its secret)",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(webhookSchema, "The webhook") },
    }),
    async (c) => {
      const webhook = await findOrgWebhook(c.var.services.db, c.var.org.id);
      if (!webhook) throw new ApiError("not_found", "this organization has no webhook");
      return c.json(publicWebhook(webhook));
    },
  )
  .put(
    "/",
    documented({
      tag: "Webhook",
      summary: "Set the webhook's URL (and rotate its signing secret)",
      description:
        "The signing secret is answered only when it was created or rotated (`rotateSecret: true`).",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: putWebhookSchema },
      bodyLimit: true,
      responses: {
        200: json(webhookSchema.extend({ secret: z.string().optional() }), "The webhook"),
      },
    }),
    limitBody(16 * 1024),
    async (c) => {
      const input = await readJsonBody(c, putWebhookSchema);
      const result = await setOrgWebhook(c.var.services, {
        orgId: c.var.org.id,
        url: input.url,
        rotateSecret: input.rotateSecret === true,
      });
      if (!result.ok) {
        throw new ApiError("validation_failed", `invalid request body: url ${result.message}`, [
          { path: "url", message: result.message },
        ]);
      }
      return c.json({
        ...publicWebhook(result.webhook),
        ...(result.secretIssued ? { secret: result.webhook.secret } : {}),
      });
    },
  )
  .delete(
    "/",
    documented({
      tag: "Webhook",
      summary: "Delete the webhook",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      responses: { 204: empty("Deleted") },
    }),
    async (c) => {
      const deleted = await deleteOrgWebhook(c.var.services.db, c.var.org.id);
      if (!deleted) throw new ApiError("not_found", "this organization has no webhook");
      return c.body(null, 204);
    },
  );
