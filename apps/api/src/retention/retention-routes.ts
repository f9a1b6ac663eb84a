import {
  type RetentionUpdate,
  retentionSettingsSchema,
  retentionUpdateSchema,
} from "@auditlog/events";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam } from "../openapi/describe.ts";
import {
  daysOutOfBounds,
  readRetention,
  retentionBounds,
  updateRetention,
} from "./retention-service.ts";

/**
 * The update body; a bad `days` (not a whole number, or beyond what any plan allows) is answered
 * with this organisation's bounds, as one above its plan's maximum is.
 */
async function readUpdate(c: Context<AppEnv>): Promise<RetentionUpdate> {
  try {
    return await readJsonBody(c, retentionUpdateSchema);
  } catch (error) {
    if (error instanceof ApiError && error.details?.some((detail) => detail.path === "days")) {
      throw daysOutOfBounds(c.var.org, retentionBounds(c.var.services.env));
    }
    throw error;
  }
}

/**
 * `/v1/orgs/:org/retention`: how long the organisation's log is kept and whether it is under
 * legal hold, for its admins (by session, with CSRF for a change, or personal access token).
 */
export const retentionRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Retention",
      summary: "Retention period and legal hold",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: {
        200: json(retentionSettingsSchema, "The settings and this organisation's bounds"),
      },
    }),
    async (c) => c.json(await readRetention(c.var.services, c.var.org)),
  )
  .put(
    "/",
    documented({
      tag: "Retention",
      summary: "Change the retention period or the legal hold",
      description:
        "`days` outside this organisation's bounds answers 400 naming `days` with the bounds. Recorded in the log.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: retentionUpdateSchema },
      bodyLimit: true,
      responses: { 200: json(retentionSettingsSchema, "The settings now") },
    }),
    limitBody(16 * 1024),
    async (c) => {
      const update = await readUpdate(c);
      const { settings } = await updateRetention(c.var.services, {
        org: c.var.org,
        update,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json(settings);
    },
  );
