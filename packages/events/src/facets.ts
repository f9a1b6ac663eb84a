import { z } from "zod";
import { suggestionKeys } from "./facet-keys.ts";

export {
  type FacetKey,
  facetKeys,
  facetQueryKeys,
  type SuggestionKey,
  suggestionKeys,
} from "./facet-keys.ts";
export { foldForMatch, matchesWordPrefix } from "./text-match.ts";

/**
 * `GET /v1/orgs/:org/audit-logs/facets`: for the same filter as the list, the most frequent
 * values of each facet with how many matching entries hold them, so the console can show where
 * a filter's entries come from and narrow it in one click (the facets and their query-language
 * keys: facet-keys.ts).
 */

/** Values per facet by default, and at most (`?limit=`). */
export const defaultFacetLimit = 10;
export const maxFacetLimit = 50;

/**
 * At most this many of the newest matching entries are counted: the counts of a filter over a
 * larger history are those of its newest part (`complete: false` says so), and the answer stays
 * fast whatever the size of the log.
 */
export const facetScanLimit = 100_000;

export const facetValueSchema = z.object({
  value: z.string(),
  /** A readable name when the value is an id (a target's name). */
  label: z.string().optional(),
  count: z.number().int().positive(),
});
export type FacetValue = z.infer<typeof facetValueSchema>;

const perFacet = <T extends z.ZodType>(schema: T) =>
  z.object({ actor: schema, type: schema, category: schema, country: schema, target: schema });

export const facetsSchema = z.object({
  /** Per facet, the most frequent values, most frequent first (then by value). */
  facets: perFacet(z.array(facetValueSchema)),
  /** Per facet, how many distinct values the counted entries hold (entries without one left out). */
  distinct: perFacet(z.number().int().nonnegative()),
  /** How many entries were counted. */
  counted: z.number().int().nonnegative(),
  /** False when more entries match than `facetScanLimit`: the counts are of the newest ones. */
  complete: z.boolean(),
});
export type AuditFacets = z.infer<typeof facetsSchema>;

/**
 * `GET /v1/orgs/:org/audit-logs/suggestions?key=author|target|ip&prefix=…`: values of a key
 * for the query bar's completion. Matching ignores case and accents (`zo` finds "Zoë") and
 * looks at the start of each word.
 */
export const suggestionKeySchema = z.enum(suggestionKeys);

export const defaultSuggestionLimit = 10;
export const maxSuggestionLimit = 50;
/** Longest prefix taken; longer ones are refused (400). */
export const maxSuggestionPrefix = 200;

export const suggestionsSchema = z.object({
  key: suggestionKeySchema,
  values: z.array(
    z.object({
      value: z.string(),
      /** A readable name when the value is an id. */
      label: z.string().optional(),
    }),
  ),
});
export type AuditSuggestions = z.infer<typeof suggestionsSchema>;
