import {
  alertRuleListSchema,
  alertRuleSchema,
  createAlertRuleSchema,
  updateAlertRuleSchema,
} from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, empty, json, orgParam, pathParam } from "../openapi/describe.ts";
import {
  createOrgAlertRule,
  deleteOrgAlertRule,
  getOrgAlertRule,
  listOrgAlertRules,
  updateOrgAlertRule,
} from "./alert-service.ts";

const alertIdParam = pathParam("id", "The rule's id", "alr_…");

/**
 * `/v1/orgs/:org/alerts`: the organisation's alert rules, seen by its admins and auditors and
 * changed by its admins only (auth/role-policy.ts), by session (with CSRF for a change) or
 * personal access token. Another organisation's rule is a 404, like a missing
 * one. The Slack URL is accepted, sealed, and only ever shown as its last four characters.
 */
export const alertRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Alerts",
      summary: "The organisation's alert rules",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: {
        200: json(alertRuleListSchema, "Rules (a Slack URL shown as its last four characters)"),
      },
    }),
    async (c) => c.json({ alerts: await listOrgAlertRules(c.var.services, c.var.org) }),
  )
  .post(
    "/",
    documented({
      tag: "Alerts",
      summary: "Create an alert rule",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createAlertRuleSchema },
      bodyLimit: true,
      responses: { 201: json(alertRuleSchema, "The rule") },
      errors: [409],
    }),
    limitBody(16 * 1024),
    async (c) => {
      const rule = await readJsonBody(c, createAlertRuleSchema);
      const created = await createOrgAlertRule(c.var.services, {
        org: c.var.org,
        rule,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json(created, 201);
    },
  )
  .get(
    "/:id",
    documented({
      tag: "Alerts",
      summary: "One alert rule",
      auth: "orgAdmin",
      parameters: [orgParam, alertIdParam],
      responses: { 200: json(alertRuleSchema, "The rule") },
    }),
    async (c) => c.json(await getOrgAlertRule(c.var.services, c.var.org, c.req.param("id"))),
  )
  .patch(
    "/:id",
    documented({
      tag: "Alerts",
      summary: "Change an alert rule",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, alertIdParam],
      body: { schema: updateAlertRuleSchema },
      bodyLimit: true,
      responses: { 200: json(alertRuleSchema, "The rule") },
      errors: [409],
    }),
    limitBody(16 * 1024),
    async (c) => {
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
    },
  )
  .delete(
    "/:id",
    documented({
      tag: "Alerts",
      summary: "Delete an alert rule",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, alertIdParam],
      responses: { 204: empty("Deleted") },
    }),
    async (c) => {
      await deleteOrgAlertRule(c.var.services, {
        org: c.var.org,
        id: c.req.param("id"),
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.body(null, 204);
    },
  );
