import { Readable } from "node:stream";
import { decodeCursor, listEntries, openEntryJsonStream, touchViewerLink } from "@auditlog/db";
import { viewerEntryPageSchema, viewerScopeSchema } from "@auditlog/events";
import type { Context } from "hono";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { maxPageSize } from "../audit-log/audit-log-routes.ts";
import { readEntryQuery } from "../audit-log/entry-query-input.ts";
import { recordApiAction, requestClient } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { limitOrgQueries } from "../http/query-slots.ts";
import { limitRequests } from "../http/rate-limit.ts";
import {
  documented,
  entryFilterParams,
  json,
  limitParam,
  queryParam,
} from "../openapi/describe.ts";
import { viewerLinkAuth } from "./viewer-link-auth.ts";

/** How often a link's reads are recorded: one `use` entry per link and window, not per page. */
export const viewerUseRecordSeconds = 300;

/**
 * Records a use of the link in its organisation's log: every export, and reads at most once per
 * link every `viewerUseRecordSeconds` (a `SET NX` in Redis decides; a page load fetches a page
 * or more, which would otherwise flood the log with its own reading). When Redis cannot say, the
 * use is recorded.
 */
async function recordUse(c: Context<AppEnv>, via: "list" | "export"): Promise<void> {
  const { services, viewerLink } = c.var;
  const { link, org } = viewerLink;
  if (via === "list") {
    const fresh = await services.redis
      .set(`auditlog:viewer-use:${link.id}`, "1", "EX", viewerUseRecordSeconds, "NX")
      .catch(() => "OK");
    if (fresh !== "OK") return;
  }
  await recordApiAction(services, {
    orgId: org.id,
    actor: { type: "token", id: link.id, name: "viewer link holder" },
    client: requestClient(c),
    event: {
      type: "org.audit_log.viewer_link.use",
      target: { type: "organization", id: org.slug, name: org.name },
      data: { linkId: link.id, name: link.name, q: link.q, via },
    },
  });
  // Bookkeeping for the admins' list: a failed write must not fail the read.
  await touchViewerLink(services.db, { id: link.id, usedAt: new Date() }).catch(() => {});
}

/**
 * `/v1/viewer`: what the holder of a scoped viewer link reads (`Authorization: Bearer avl_…`).
 * Every query of the holder is ANDed with the link's filter in SQL (`scope` of the entry
 * filter), so no `q` of theirs (negations, wildcards, free text) reaches an entry outside it;
 * hidden entries (the log's own records, viewer link uses among them) stay out unless the link's
 * filter itself selects them.
 */
export const viewerRoutes = new Hono<AppEnv>()
  .use(
    viewerLinkAuth,
    limitRequests(
      (c) => c.var.services.rateLimits.user,
      (c) => `viewer:${c.var.viewerLink.link.id}`,
    ),
  )
  .get(
    "/",
    documented({
      tag: "Viewer",
      summary: "What this viewer link shows: its organisation, name, filter and expiry",
      auth: "viewerLink",
      responses: { 200: json(viewerScopeSchema, "The link's scope") },
    }),
    (c) => {
      const { link, org } = c.var.viewerLink;
      return c.json({
        organization: { slug: org.slug, name: org.name },
        name: link.name,
        q: link.q,
        expiresAt: link.expiresAt.toISOString(),
      });
    },
  )
  .get(
    "/entries",
    documented({
      tag: "Viewer",
      summary: "Entries matching the link's filter AND these filters, newest first",
      auth: "viewerLink",
      parameters: [
        ...entryFilterParams,
        limitParam(50, maxPageSize),
        queryParam("cursor", "`nextCursor` of the previous page"),
      ],
      responses: {
        200: json(viewerEntryPageSchema, "A page of entries; `nextCursor` is null on the last"),
      },
      errors: [422],
    }),
    limitOrgQueries,
    async (c) => {
      const { query, includeHidden } = readEntryQuery(c);
      const limit = readLimit(c, 50, maxPageSize);
      const cursorText = c.req.query("cursor");
      const cursor = cursorText ? decodeCursor(cursorText) : null;
      if (cursorText && !cursor) {
        throw new ApiError("bad_request", "invalid cursor", [
          { path: "cursor", message: "not a cursor returned by this API" },
        ]);
      }
      await recordUse(c, "list");
      const page = await listEntries(c.var.services.db.forReads(), {
        orgId: c.var.viewerLink.org.id,
        query,
        limit,
        cursor,
        options: { includeHidden, scope: c.var.viewerLink.scope },
      });
      return c.json({ entries: page.entries, nextCursor: page.nextCursor });
    },
  )
  .get(
    "/export",
    documented({
      tag: "Viewer",
      summary: "Every entry matching the link's filter AND these filters, as NDJSON",
      description:
        "Streamed newest first, one entry per line (the shape of `GET /v1/viewer/entries`' entries). Each export is recorded in the organisation's log.",
      auth: "viewerLink",
      parameters: [...entryFilterParams],
      responses: {
        200: {
          description: "One JSON entry per line",
          content: { "application/x-ndjson": { schema: { type: "string" } } },
        },
      },
    }),
    async (c) => {
      const { query, includeHidden } = readEntryQuery(c);
      await recordUse(c, "export");
      const { services, viewerLink } = c.var;
      const opened = await openEntryJsonStream(services.db, {
        orgId: viewerLink.org.id,
        query,
        options: { includeHidden, scope: viewerLink.scope },
      });
      let failed = false;
      opened.stream.on("error", (error) => {
        failed = true;
        services.logger.error("viewer export failed", {
          requestId: c.var.requestId,
          error: error.message,
        });
      });
      opened.stream.on("close", () => {
        void opened.release(failed || !opened.stream.readableEnded).catch(() => {});
      });
      c.header("Content-Type", "application/x-ndjson");
      c.header("Content-Disposition", 'attachment; filename="audit-log.ndjson"');
      return c.body(Readable.toWeb(opened.stream) as unknown as ReadableStream<Uint8Array>, 200);
    },
  );
