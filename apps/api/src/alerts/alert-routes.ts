import { createAlertRuleSchema, updateAlertRuleSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgAdmin } from "../auth/require-org-admin.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import {
  createOrgAlertRule,
  deleteOrgAlertRule,
  getOrgAlertRule,
  listOrgAlertRules,
  updateOrgAlertRule,
} from "./alert-service.ts";

/**
 * `/v1/orgs/:org/alerts`: the organisation's alert rules, for its admins (by session, with CSRF
 * for a change, or personal access token). Another organisation's rule is a 404, like a missing
 * one. The Slack URL is accepted, sealed, and only ever shown as its last four characters.
 */
export const alertRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgAdmin())
  .get("/", async (c) => c.json({ alerts: await listOrgAlertRules(c.var.services, c.var.org) }))
  .post("/", limitBody(16 * 1024), async (c) => {
    const rule = await readJsonBody(c, createAlertRuleSchema);
    const created = await createOrgAlertRule(c.var.services, {
      org: c.var.org,
      rule,
      actor: requestActor(c),
      client: requestClient(c),
    });
    return c.json(created, 201);
  })
  .get("/:id", async (c) =>
    c.json(await getOrgAlertRule(c.var.services, c.var.org, c.req.param("id"))),
  )
  .patch("/:id", limitBody(16 * 1024), async (c) => {
    const update = await readJsonBody(c, updateAlertRuleSchema);
    return c.json(
      await updateOrgAlertRule(c.var.services, {
        org: c.var.org,
        id: c.req.param("id"),
        update,
        actor: requestActor(c),
        client: requestClient(c),
      }),
    );
  })
  .delete("/:id", async (c) => {
    await deleteOrgAlertRule(c.var.services, {
      org: c.var.org,
      id: c.req.param("id"),
      actor: requestActor(c),
      client: requestClient(c),
    });
    return c.body(null, 204);
  });
