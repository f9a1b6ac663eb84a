import { decodeCursor, encodeCursor, listOrgMembers } from "@auditlog/db";
import {
  type Member,
  memberListSchema,
  memberRole,
  memberRoleUpdateSchema,
} from "@auditlog/events";
import { Hono } from "hono";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { requestActor, requestClient } from "../audit-log/record-api-action.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { limitBody } from "../http/body-limit.ts";
import { readJsonBody } from "../http/json-body.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import {
  documented,
  json,
  limitParam,
  orgParam,
  pathParam,
  queryParam,
} from "../openapi/describe.ts";
import { changeMemberRole, removeMember } from "./member-service.ts";

/** Members a page by default, and at most (an organisation fed by SSO can have thousands). */
const defaultMemberPage = 100;
const maxMemberPage = 500;

/** `/v1/orgs/:org/members`: the organisation's members, for its admins. */
export const memberRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  /** The members and their roles: the console's Settings › Members (admins only, as changes). */
  .get(
    "/",
    documented({
      tag: "Members",
      summary: "The organisation's members and their roles",
      description:
        "Oldest membership first, a page at a time. Admin only: who holds which role is the admins' to see.",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        limitParam(defaultMemberPage, maxMemberPage),
        queryParam("cursor", "`nextCursor` of the previous page"),
      ],
      responses: {
        200: json(memberListSchema, "A page of members; `nextCursor` is null on the last"),
      },
    }),
    async (c) => {
      const limit = readLimit(c, defaultMemberPage, maxMemberPage);
      const cursorText = c.req.query("cursor");
      const after = cursorText ? decodeCursor(cursorText) : null;
      if (cursorText && !after) {
        throw new ApiError("bad_request", "invalid cursor", [
          { path: "cursor", message: "not a cursor returned by this API" },
        ]);
      }
      const page = await listOrgMembers(c.var.services.db, c.var.org.id, { limit, after });
      const members: Member[] = page.members.map((record) => ({
        userId: record.user.id,
        email: record.user.email,
        name: record.user.name,
        // The memberships check holds every stored role to the list.
        role: record.role as Member["role"],
        joinedAt: record.createdAt.toISOString(),
      }));
      return c.json({ members, nextCursor: page.next ? encodeCursor(page.next) : null });
    },
  )
  /** Changes a member's role (`auditor`, say); 409 for the last admin. */
  .patch(
    "/:userId",
    documented({
      tag: "Members",
      summary: "Change a member's role",
      description:
        "Roles: `admin` (everything), `auditor` (reads, searches, exports and verifies the log; changes nothing), `write` and `read` (no access to the log). 409 for the organisation's last admin and for the role the member already has. Recorded in the log (`org.change_role`); takes effect on the member's next request.",
      auth: "orgAdmin",
      unsafe: true,
      parameters: [orgParam, pathParam("userId", "The member's user id")],
      body: { schema: memberRoleUpdateSchema },
      bodyLimit: true,
      responses: {
        200: json(
          z.object({
            userId: z.string(),
            email: z.string(),
            name: z.string(),
            oldRole: memberRole,
            role: memberRole,
          }),
          "The member, with their new role",
        ),
      },
      errors: [409],
    }),
    limitBody(4 * 1024),
    async (c) => {
      const { role } = await readJsonBody(c, memberRoleUpdateSchema);
      const changed = await changeMemberRole(c.var.services, {
        org: c.var.org,
        userId: c.req.param("userId"),
        role,
        actor: requestActor(c),
        client: requestClient(c),
      });
      return c.json(changed);
    },
  )
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
            role: memberRole,
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
