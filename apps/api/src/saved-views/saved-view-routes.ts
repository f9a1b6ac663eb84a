import { deleteSavedView, insertSavedView, listSavedViews } from "@auditlog/db";
import {
  createSavedViewSchema,
  maxSavedViewsPerOrg,
  parseQuery,
  type SavedView,
  savedViewListSchema,
  savedViewSchema,
} from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, empty, json, orgParam, pathParam } from "../openapi/describe.ts";

/**
 * `/v1/orgs/:org/views`: the signed-in admin's or auditor's saved views of the organisation's log (a name and
 * the console's URL filter state). Each user sees and deletes only their own: another user's
 * view, or one of another organisation, answers 404 like a missing one.
 */
export const savedViewRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Saved views",
      summary: "My saved views of the organisation's log",
      auth: "orgAdmin",
      parameters: [orgParam],
      responses: { 200: json(savedViewListSchema, "My views") },
    }),
    async (c) => {
      const views = await listSavedViews(c.var.services.db, {
        userId: c.var.user.id,
        orgId: c.var.org.id,
      });
      return c.json({ views });
    },
  )
  .post(
    "/",
    documented({
      tag: "Saved views",
      summary: "Save a view (a name and the console's filter state)",
      description:
        "`filters.q` is parsed like the query API's `q`. 409 for a name already used; at most 50 views.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam],
      body: { schema: createSavedViewSchema },
      bodyLimit: true,
      responses: { 201: json(savedViewSchema, "The view") },
      errors: [409],
    }),
    limitBody(16 * 1024),
    async (c) => {
      const input = await readJsonBody(c, createSavedViewSchema);
      // A view must open as a working filter: `q` is checked by the same parser as the query API.
      if (input.filters.q.trim() !== "") {
        const parsed = parseQuery(input.filters.q);
        if (!parsed.ok) {
          const message = `${parsed.error.message} at position ${parsed.error.position}`;
          throw new ApiError("validation_failed", `invalid request body: filters.q ${message}`, [
            {
              path: "filters.q",
              message,
              position: parsed.error.position,
              token: parsed.error.token,
            },
          ]);
        }
      }
      const result = await insertSavedView(c.var.services.db, {
        userId: c.var.user.id,
        orgId: c.var.org.id,
        name: input.name,
        filters: input.filters,
        max: maxSavedViewsPerOrg,
      });
      if (!result.ok) {
        throw result.reason === "duplicate"
          ? new ApiError("conflict", `you already have a view named "${input.name}"`, [
              { path: "name", message: "is already the name of one of your views" },
            ])
          : new ApiError("validation_failed", `at most ${maxSavedViewsPerOrg} views`, [
              { path: "name", message: `you have ${maxSavedViewsPerOrg} views; delete one first` },
            ]);
      }
      const view: SavedView = result.view;
      return c.json(view, 201);
    },
  )
  .delete(
    "/:id",
    documented({
      tag: "Saved views",
      summary: "Delete one of my views",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, pathParam("id", "The view's id")],
      responses: { 204: empty("Deleted") },
    }),
    async (c) => {
      const deleted = await deleteSavedView(c.var.services.db, {
        userId: c.var.user.id,
        orgId: c.var.org.id,
        id: c.req.param("id"),
      });
      if (!deleted) throw new ApiError("not_found", "view not found");
      return c.body(null, 204);
    },
  );
