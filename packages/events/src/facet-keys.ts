/**
 * The facets of `GET /v1/orgs/:org/audit-logs/facets` and the keys of `…/suggestions` (their
 * schemas are in facets.ts). No zod here: the console's first screen lays out its facet rail
 * and query completion without loading zod.
 *
 * Each facet value is what the query language's key takes (`author:`, `type:`, `category:`,
 * `country:`, `target:`), so a value pivots into `q` as written.
 */
export const facetKeys = ["actor", "type", "category", "country", "target"] as const;
export type FacetKey = (typeof facetKeys)[number];

/** The query-language key each facet's values belong to. */
export const facetQueryKeys = {
  actor: "author",
  type: "type",
  category: "category",
  country: "country",
  target: "target",
} as const satisfies Record<FacetKey, string>;

/**
 * The keys `…/suggestions?key=` completes for the query bar (see `suggestionsSchema`).
 */
export const suggestionKeys = ["author", "target", "ip"] as const;
export type SuggestionKey = (typeof suggestionKeys)[number];
