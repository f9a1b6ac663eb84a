import { z } from "zod";

/**
 * `GET /v1/orgs/:org/audit-logs/facets`: for the same filter as the list, the most frequent
 * values of each facet with how many matching entries hold them, so the console can show where
 * a filter's entries come from and narrow it in one click.
 *
 * Each value is what the query language's key takes (`author:`, `type:`, `category:`,
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
export const suggestionKeys = ["author", "target", "ip"] as const;
export const suggestionKeySchema = z.enum(suggestionKeys);
export type SuggestionKey = z.infer<typeof suggestionKeySchema>;

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

/**
 * Text folded for matching: without accents or case (`Zoë` → `zoe`, `Ærø` → `ærø`). Shared by
 * the API's matching and the console's highlighting, so both agree on what matches.
 */
export function foldForMatch(text: string): string {
  return text
    .normalize("NFKD")
    .replace(/\p{M}+/gu, "")
    .toLocaleLowerCase("en");
}

/** Whether `text` has a word starting with `prefix` (both folded), or starts with it. */
export function matchesWordPrefix(text: string, prefix: string): boolean {
  const folded = foldForMatch(text);
  const needle = foldForMatch(prefix);
  if (needle === "" || folded.startsWith(needle)) return true;
  return folded.split(/[\s._\-/@:]+/u).some((word) => word.startsWith(needle));
}
