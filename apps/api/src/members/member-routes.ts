import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { removeMember } from "./member-service.ts";

/** `/v1/orgs/:org/members`: the organisation's members, for its admins. */
export const memberRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  /** Removes a member at once, whatever credential they use; 409 for the last admin. */
  .delete("/:userId", async (c) => {
    const removed = await removeMember(c.var.services, {
      org: c.var.org,
      userId: c.req.param("userId"),
      actor: requestActor(c),
      client: requestClient(c),
    });
    return c.json(removed);
  });
