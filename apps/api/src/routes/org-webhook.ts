import { deleteOrgWebhook, findOrgWebhook, upsertOrgWebhook } from "@auditlog/db";
import { Hono } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import { ApiError } from "../errors.ts";
import { readJsonBody } from "../http/json-body.ts";
import { requireOrgAdmin } from "../middleware/require-org-admin.ts";
import { userAuth } from "../middleware/user-auth.ts";
import type { AppEnv } from "../types.ts";
import { generateWebhookSecret, validateWebhookUrl } from "../webhooks/webhook-config.ts";

const putWebhookSchema = z.strictObject({
  url: z.string({ error: "is required" }),
  rotateSecret: z.boolean().optional(),
});

const smallBody = bodyLimit({
  maxSize: 16 * 1024,
  onError: () => {
    throw new ApiError("payload_too_large", "request body exceeds 16384 bytes");
  },
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
  .use(userAuth, requireOrgAdmin())
  .get("/", async (c) => {
    const webhook = await findOrgWebhook(c.var.services.db, c.var.org.id);
    if (!webhook) throw new ApiError("not_found", "this organization has no webhook");
    return c.json(publicWebhook(webhook));
  })
  .put("/", smallBody, async (c) => {
    const input = await readJsonBody(c, putWebhookSchema);
    const checked = validateWebhookUrl(input.url.trim(), {
      allowLocal: c.var.services.env.WEBHOOK_ALLOW_LOCAL_URLS,
    });
    if (!checked.ok) {
      throw new ApiError("validation_failed", `invalid request body: url ${checked.message}`, [
        { path: "url", message: checked.message },
      ]);
    }
    const { webhook, secretIssued } = await upsertOrgWebhook(c.var.services.db, {
      orgId: c.var.org.id,
      url: checked.url,
      candidateSecret: generateWebhookSecret(),
      rotateSecret: input.rotateSecret === true,
    });
    return c.json({
      ...publicWebhook(webhook),
      ...(secretIssued ? { secret: webhook.secret } : {}),
    });
  })
  .delete("/", async (c) => {
    const deleted = await deleteOrgWebhook(c.var.services.db, c.var.org.id);
    if (!deleted) throw new ApiError("not_found", "this organization has no webhook");
    return c.body(null, 204);
  });
