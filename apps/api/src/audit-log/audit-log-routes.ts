import {
  decodeCursor,
  facetEntries,
  getEntry,
  histogramEntries,
  listEntries,
  suggestValues,
} from "@auditlog/db";
import {
  type AuditEntryPage,
  type AuditFacets,
  type AuditHistogram,
  type AuditSuggestions,
  auditEntryPageSchema,
  auditEntrySchema,
  defaultFacetLimit,
  defaultSuggestionLimit,
  facetsSchema,
  type HistogramInterval,
  histogramIntervals,
  histogramSchema,
  maxFacetLimit,
  maxSuggestionLimit,
  maxSuggestionPrefix,
  suggestionKeySchema,
  suggestionKeys,
  suggestionsSchema,
  timeZoneNamePattern,
} from "@auditlog/events";
import { Hono } from "hono";
import type { AppEnv } from "../app-env.ts";
import { requireOrgRole } from "../auth/require-org-role.ts";
import { userAuth } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import { readLimit } from "../http/query-params.ts";
import { limitOrgQueries } from "../http/query-slots.ts";
import { limitUserRequests } from "../http/rate-limit.ts";
import {
  documented,
  entryFilterParams,
  json,
  limitParam,
  orgParam,
  pathParam,
  queryParam,
} from "../openapi/describe.ts";
import { readEntryQuery } from "./entry-query-input.ts";

export const maxPageSize = 200;

/** `/v1/orgs/:org/audit-logs`: one organisation's entries, for its admins and auditors
 * (auth/role-policy.ts). */
export const auditLogRoutes = new Hono<AppEnv>()
  .use(userAuth, limitUserRequests, requireOrgRole(), limitOrgQueries)
  .get(
    "/",
    documented({
      tag: "Audit log",
      summary: "Entries matching a filter, newest first",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        ...entryFilterParams,
        limitParam(50, maxPageSize),
        queryParam("cursor", "`nextCursor` of the previous page"),
      ],
      responses: {
        200: json(auditEntryPageSchema, "A page of entries; `nextCursor` is null on the last"),
      },
      errors: [422],
    }),
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
      const page = await listEntries(c.var.services.db.forReads(), {
        orgId: c.var.org.id,
        query,
        limit,
        cursor,
        options: { includeHidden },
      });
      const body: AuditEntryPage = { entries: page.entries, nextCursor: page.nextCursor };
      return c.json(body);
    },
  )
  /**
   * Entries per bucket and category for the same filters, for the console's chart, with the
   * filter's total. `interval` is minute, hour, day, week, month or auto (default: day, as
   * before); `tz` an IANA zone the buckets are aligned in (default: UTC).
   */
  .get(
    "/histogram",
    documented({
      tag: "Audit log",
      summary: "Entries per time bucket and category, for a filter",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        ...entryFilterParams,
        queryParam("interval", "Bucket size (default day); auto picks one from the range", {
          type: "string",
          enum: [...histogramIntervals, "auto"],
          default: "day",
        }),
        queryParam("tz", "IANA time zone the buckets are aligned in (default UTC)", {
          type: "string",
          default: "UTC",
        }),
      ],
      responses: { 200: json(histogramSchema, "Buckets and the filter's total") },
      errors: [422],
    }),
    async (c) => {
      const { query, includeHidden } = readEntryQuery(c);
      const interval = c.req.query("interval") ?? "day";
      if (interval !== "auto" && !(histogramIntervals as readonly string[]).includes(interval)) {
        throw new ApiError("bad_request", "invalid interval", [
          { path: "interval", message: `must be one of ${histogramIntervals.join(", ")}, auto` },
        ]);
      }
      const timeZone = readTimeZone(c.req.query("tz"));
      const body: AuditHistogram = await histogramEntries(c.var.services.db.forReads(), {
        orgId: c.var.org.id,
        query,
        interval: interval as HistogramInterval | "auto",
        timeZone,
        options: { includeHidden },
      });
      return c.json(body);
    },
  )
  /** The most frequent actors, types, categories, countries and targets for the same filters. */
  .get(
    "/facets",
    documented({
      tag: "Audit log",
      summary: "The most frequent actors, types, categories, countries and targets, for a filter",
      auth: "orgAdmin",
      parameters: [orgParam, ...entryFilterParams, limitParam(defaultFacetLimit, maxFacetLimit)],
      responses: { 200: json(facetsSchema, "Per facet, the most frequent values with counts") },
      errors: [422],
    }),
    async (c) => {
      const { query, includeHidden } = readEntryQuery(c);
      const limit = readLimit(c, defaultFacetLimit, maxFacetLimit);
      const body: AuditFacets = await facetEntries(c.var.services.db.forReads(), {
        orgId: c.var.org.id,
        query,
        limit,
        options: { includeHidden },
      });
      return c.json(body);
    },
  )
  /** Values of `author`, `target` or `ip` for the query bar's completion. */
  .get(
    "/suggestions",
    documented({
      tag: "Audit log",
      summary: "Values of author, target or ip for completion",
      auth: "orgAdmin",
      parameters: [
        orgParam,
        queryParam(
          "key",
          "The key to complete",
          { type: "string", enum: [...suggestionKeys] },
          true,
        ),
        queryParam("prefix", "What was typed so far (case- and accent-insensitive)", {
          type: "string",
          maxLength: maxSuggestionPrefix,
        }),
        limitParam(defaultSuggestionLimit, maxSuggestionLimit),
      ],
      responses: { 200: json(suggestionsSchema, "Matching values, most frequent first") },
      errors: [422],
    }),
    async (c) => {
      const key = suggestionKeySchema.safeParse(c.req.query("key"));
      if (!key.success) {
        throw new ApiError("bad_request", "invalid key", [
          { path: "key", message: `must be one of ${suggestionKeys.join(", ")}` },
        ]);
      }
      const prefix = c.req.query("prefix") ?? "";
      if (prefix.length > maxSuggestionPrefix) {
        throw new ApiError("bad_request", "invalid prefix", [
          { path: "prefix", message: `must be at most ${maxSuggestionPrefix} characters` },
        ]);
      }
      const limit = readLimit(c, defaultSuggestionLimit, maxSuggestionLimit);
      const body: AuditSuggestions = await suggestValues(c.var.services.db.forReads(), {
        orgId: c.var.org.id,
        key: key.data,
        prefix,
        limit,
      });
      return c.json(body);
    },
  )
  .get(
    "/:id",
    documented({
      tag: "Audit log",
      summary: "One entry",
      auth: "orgAdmin",
      parameters: [orgParam, pathParam("id", "The entry's id", "evt_…")],
      responses: { 200: json(auditEntrySchema, "The entry") },
      errors: [422],
    }),
    async (c) => {
      const entry = await getEntry(c.var.services.db.forReads(), c.var.org.id, c.req.param("id"));
      if (!entry) throw new ApiError("not_found", "entry not found");
      return c.json(entry);
    },
  );

/** `tz`: an IANA zone name (canonical form), UTC when absent; 400 naming `tz` otherwise. */
function readTimeZone(value: string | undefined): string {
  if (value === undefined || value === "") return "UTC";
  const invalid = () =>
    new ApiError("bad_request", "invalid time zone", [
      { path: "tz", message: "must be an IANA time zone name such as UTC or Europe/Paris" },
    ]);
  if (!timeZoneNamePattern.test(value)) throw invalid();
  try {
    return new Intl.DateTimeFormat("en", { timeZone: value }).resolvedOptions().timeZone;
  } catch {
    throw invalid();
  }
}
