/**
 * The Hub/GitHub-style audit-log query language (PRODUCT.md §4), shared by the query API and the
 * web console:
 *
 *     author:alice type:repo.create ip:203.0.113.0 created:>=2026-01-01 -type:org.sso_login "text"
 *
 * A query is one line of space-separated terms: `key:value` qualifiers (`-key:value` excludes),
 * bare words and `"quoted phrases"` (free text, all of which must match). Values may be
 * double-quoted, with `\"` and `\\` escapes. The same key repeated positively is an OR within that
 * key; exclusions accumulate; several `created` terms intersect.
 *
 * `parseQuery` never throws on user input: it answers `{ ok: false, error }` with the 0-based
 * offset and the exact text of the offending term (`input.slice(position, position +
 * token.length) === token`), so the console can underline it.
 */

export { normalizeIpPrefix } from "../ip/index.ts";
export { QueryParseError, type QueryParseErrorKind } from "./errors.ts";
export { countryCodes, type QueryKey, type QueryKeyInfo, queryKeys } from "./keys.ts";
export { type QueryLimits, queryLimits, storedQueryLimits } from "./lexer.ts";
export { parsedQuerySchema } from "./parsed-query-schema.ts";
export {
  emptyQuery,
  isEmptyQuery,
  type ParsedQuery,
  type ParseQueryOptions,
  type ParseQueryResult,
  parseQuery,
  parseQueryOrThrow,
} from "./parser.ts";
export { printQuery } from "./printer.ts";
