import { listErasures } from "@auditlog/db";
import { createErasureRequestSchema, erasureListSchema, erasureSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, orgParam } from "../openapi/describe.ts";
import { erasePerson } from "./erasure-service.ts";

/**
 * `/v1/orgs/:org/erasures` (issue 16): an admin erases a person's personal fields from the
 * organisation's log (GDPR art. 17), and lists past erasures. A cookie session must send its
 * CSRF token (`userAuth`).
 */
export const erasureRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .post(
    "/",
    documented({
      tag: "Erasures",
      summary: "Erase a person's personal fields from the log",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createErasureRequestSchema },
      bodyLimit: true,
      responses: { 201: json(erasureSchema, "The erasure") },
    }),
    limitBody(4 * 1024),
    async (c) => {
      const { actorId } = await readJsonBody(c, createErasureRequestSchema);
      const erasure = await erasePerson(c.var.services, {
        org: c.var.org,
        actorId,
        requester: requestActor(c),
        client: requestClient(c),
      });
      return c.json(erasure, 201);
    },
  )
  .get(
    "/",
    documented({
      tag: "Erasures",
      summary: "Past erasures",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(erasureListSchema, "Erasures, newest first") },
    }),
    async (c) => {
      return c.json({ erasures: await listErasures(c.var.services.db, c.var.org.id) });
    },
  );
