import { type DeadLetterRecord, listDeadLetters } from "@auditlog/db";
import {
  DEFAULT_DEAD_LETTERS_PAGE,
  type DeadLetter,
  type DeadLetterPage,
  deadLetterIdSchema,
  deadLetterIssues,
  deadLetterPageSchema,
  MAX_DEAD_LETTERS_PAGE,
  withTruncatedIp,
} from "@auditlog/events";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import { documented, json, limitParam, orgParam, queryParam } from "../openapi/describe.ts";

/** A stored dead letter as admins see it (the IP rule applied again: see `withTruncatedIp`). */
export function toDeadLetter(record: DeadLetterRecord): DeadLetter {
  return {
    id: record.id,
    eventId: record.eventId,
    eventType: record.eventType,
    reason: record.reason,
    issues: deadLetterIssues(record.issues),
    event: withTruncatedIp(record.payload),
    receivedAt: record.receivedAt.toISOString(),
    createdAt: record.createdAt.toISOString(),
    replayedAt: record.replayedAt?.toISOString() ?? null,
    replayedEventId: record.replayedEventId,
  };
}

/** `?before=`: a dead letter id (the last one of the previous page), 400 naming it otherwise. */
function readBefore(c: Context<AppEnv>): string | undefined {
  const text = c.req.query("before");
  if (text === undefined) return undefined;
  const parsed = deadLetterIdSchema.safeParse(text);
  if (!parsed.success) {
    throw new ApiError("bad_request", "invalid before", [
      { path: "before", message: parsed.error.issues[0]?.message ?? "must be a dead letter id" },
    ]);
  }
  return parsed.data;
}

/**
 * `/v1/orgs/:org/dead-letters` (issue 18): the events the worker refused for the organisation,
 * with the reason and the failing fields, newest first, for its admins. Read-only: replaying is
 * an operator's act (`auditlog dead-letters replay`), after the cause is fixed.
 */
export const deadLetterRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole())
  .get(
    "/",
    documented({
      tag: "Dead letters",
      summary: "Events the worker refused, with the reason and failing fields, newest first",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        limitParam(DEFAULT_DEAD_LETTERS_PAGE, MAX_DEAD_LETTERS_PAGE),
        queryParam("before", "`nextBefore` of the previous page (a dead letter id)"),
      ],
      responses: { 200: json(deadLetterPageSchema, "A page; `nextBefore` is null on the last") },
    }),
    async (c) => {
      const limit = readLimit(c, DEFAULT_DEAD_LETTERS_PAGE, MAX_DEAD_LETTERS_PAGE);
      const before = readBefore(c);
      // One more than the page: whether an older page exists, without a count.
      const rows = await listDeadLetters(c.var.services.db, {
        orgId: c.var.org.id,
        limit: limit + 1,
        ...(before ? { before } : {}),
      });
      const page = rows.slice(0, limit);
      const body: DeadLetterPage = {
        deadLetters: page.map(toDeadLetter),
        nextBefore: rows.length > limit ? (page.at(-1)?.id ?? null) : null,
      };
      return c.json(body);
    },
  );
