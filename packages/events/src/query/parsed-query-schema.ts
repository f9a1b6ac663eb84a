import { z } from "zod";
import { categories } from "../categories.ts";

/**
 * The shape `parseQuery` returns (`ParsedQuery`), as a schema. Apart from the parser, so that
 * parsing a query (the web console does it on its first screen) does not build a zod schema.
 */
export const parsedQuerySchema = z.strictObject({
  authors: z.array(z.string()),
  excludeAuthors: z.array(z.string()),
  types: z.array(z.string()),
  excludeTypes: z.array(z.string()),
  categories: z.array(z.enum(categories)),
  excludeCategories: z.array(z.enum(categories)),
  targets: z.array(z.string()),
  excludeTargets: z.array(z.string()),
  /** Normalised prefixes: see `normalizeIpPrefix`. */
  ipPrefixes: z.array(z.string()),
  excludeIpPrefixes: z.array(z.string()),
  /** Upper-case ISO 3166-1 alpha-2. */
  countries: z.array(z.string()),
  excludeCountries: z.array(z.string()),
  /** Inclusive lower bound, `toISOString()` form (UTC, milliseconds, `Z`). */
  createdFrom: z.iso.datetime().optional(),
  /** Exclusive upper bound, `toISOString()` form. */
  createdTo: z.iso.datetime().optional(),
  /** Free-text words and phrases; every one must match. */
  text: z.array(z.string()),
});
