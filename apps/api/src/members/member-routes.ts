import { roles } from "@auditlog/db";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam, pathParam } from "../openapi/describe.ts";
import { removeMember } from "./member-service.ts";

/** `/v1/orgs/:org/members`: the organisation's members, for its admins. */
export const memberRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  /** Removes a member at once, whatever credential they use; 409 for the last admin. */
  .delete(
    "/:userId",
    documented({
      tag: "Members",
      summary: "Remove a member at once, whatever credential they use",
      description: "409 for the organisation's last admin. Recorded in the log.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, pathParam("userId", "The member's user id")],
      responses: {
        200: json(
          z.object({
            userId: z.string(),
            email: z.string(),
            name: z.string(),
            role: z.enum(roles),
          }),
          "The member removed",
        ),
      },
      errors: [409],
    }),
    async (c) => {
      const removed = await removeMember(c.var.services, {
        org: c.var.org,
        userId: c.req.param("userId"),
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json(removed);
    },
  );
