import { z } from "zod";
import { isKnownTypePattern } from "./type-patterns.ts";

/** The console's time-range presets, as its address bar spells them (`range=`). */
export const savedViewRanges = ["all", "24h", "7d", "30d", "custom"] as const;

export const maxSavedViewsPerOrg = 50;

/**
 * A saved view's filter: exactly the console's URL filter state (`q`, the type picker's types,
 * the time range and, for a custom range, its bounds). `q` is checked against the query
 * language by the API (its parser lives beside, in ./query).
 */
export const savedViewFiltersSchema = z.strictObject({
  q: z.string().max(2000, "must be at most 2,000 characters"),
  types: z
    .array(z.string().refine(isKnownTypePattern, "must be an event type or scope.* of the catalog"))
    .max(200, "must hold at most 200 types"),
  range: z.enum(savedViewRanges),
  from: z.iso.datetime({ error: "must be an ISO 8601 date-time" }).optional(),
  to: z.iso.datetime({ error: "must be an ISO 8601 date-time" }).optional(),
});
export type SavedViewFilters = z.infer<typeof savedViewFiltersSchema>;

/** `POST /v1/orgs/:org/views`. */
export const createSavedViewSchema = z.strictObject({
  name: z
    .string({ error: "is required" })
    .trim()
    .min(1, "must not be empty")
    .max(100, "must be at most 100 characters"),
  filters: savedViewFiltersSchema,
});
export type CreateSavedView = z.infer<typeof createSavedViewSchema>;

/** A view as the API answers it: the signed-in user's own, in one organisation. */
export const savedViewSchema = z.object({
  id: z.string(),
  name: z.string(),
  filters: savedViewFiltersSchema,
  createdAt: z.iso.datetime(),
});
export type SavedView = z.infer<typeof savedViewSchema>;

/** `GET /v1/orgs/:org/views`: the user's views in that organisation, by name. */
export const savedViewListSchema = z.object({ views: z.array(savedViewSchema) });
