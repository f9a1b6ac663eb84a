import { readFeed } from "@auditlog/db";
import type { FeedPage } from "@auditlog/events";
import { feedPageSchema } from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { readLimit, readLogPosition } from "../http/query-params.ts";
import { limitOrgQueries } from "../http/query-slots.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, limitParam, orgParam, queryParam } from "../openapi/describe.ts";

export const maxFeedPageSize = 1000;

/**
 * `GET /v1/orgs/:org/audit-logs/feed?after=<seq>&limit=<1..1000>`: the organisation's entries
 * after `seq`, ascending, every type included (hidden ones too). `seq` is gap-free and in commit
 * order, so a reader that asks again with `after` = the last seq it got misses nothing and sees
 * nothing twice, whatever the entries' `occurredAt`. Same readers as the list API.
 * Mounted before `auditLogRoutes`, whose `/:id` would otherwise take `feed` for an entry id.
 */
export const feedRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole(), limitOrgQueries)
  .get(
    "/",
    documented({
      tag: "Audit log",
      summary: "Entries after a log position, ascending (tailing the log)",
      description:
        "Every type included (hidden ones too). `seq` is gap-free and in commit order: ask again with `after` = the last seq received to miss nothing and see nothing twice.",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        queryParam("after", "A log position (seq); entries after it (default 0)", {
          type: "string",
          pattern: "^[0-9]{1,16}$",
        }),
        limitParam(100, maxFeedPageSize),
      ],
      responses: { 200: json(feedPageSchema, "Up to `limit` entries, oldest first") },
      errors: [422],
    }),
    async (c) => {
      const after = readLogPosition(c, "after", 0);
      const limit = readLimit(c, 100, maxFeedPageSize);
      const entries = await readFeed(c.var.services.db.forReads(), c.var.org.id, after, limit);
      const body: FeedPage = { entries };
      return c.json(body);
    },
  );
