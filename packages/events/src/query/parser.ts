import type { Category } from "../categories.ts";
import { isKnownTypePattern } from "../type-patterns.ts";
import { QueryParseError, type QueryParseErrorKind } from "./errors.ts";
import type { QueryKey } from "./keys.ts";
import { lex, type QueryLimits } from "./lexer.ts";
import { maxInstant, minInstant, normalizeValue, parseCreated } from "./values.ts";

/**
 * A normalised query: values trimmed and de-duplicated in first-seen order, categories lower
 * case, countries upper case, IP prefixes canonical, dates as UTC instants. Positive values of
 * one key are alternatives (OR); different keys, exclusions and text all combine with AND.
 */
export type ParsedQuery = {
  authors: string[];
  excludeAuthors: string[];
  types: string[];
  excludeTypes: string[];
  categories: Category[];
  excludeCategories: Category[];
  targets: string[];
  excludeTargets: string[];
  ipPrefixes: string[];
  excludeIpPrefixes: string[];
  countries: string[];
  excludeCountries: string[];
  createdFrom?: string;
  createdTo?: string;
  text: string[];
};

export interface ParseQueryOptions {
  /**
   * Whether a `type:` value (exact type or `scope.*` wildcard) selects at least one known event
   * type. Defaults to the shared catalog's `isKnownTypePattern`.
   */
  isKnownType?: (pattern: string) => boolean;
  /** Length and term limits; a person's by default (`queryLimits`). */
  limits?: QueryLimits;
  /**
   * Take unquoted `OR`, `AND`, `NOT`, `||`, `&&` and parentheses as words and values, as the
   * language did before it refused them: for queries stored then (an export's filter), never
   * for what a person types.
   */
  operatorsAsText?: boolean;
}

export type ParseQueryResult =
  | { ok: true; query: ParsedQuery }
  | { ok: false; error: QueryParseError };

export function emptyQuery(): ParsedQuery {
  return {
    authors: [],
    excludeAuthors: [],
    types: [],
    excludeTypes: [],
    categories: [],
    excludeCategories: [],
    targets: [],
    excludeTargets: [],
    ipPrefixes: [],
    excludeIpPrefixes: [],
    countries: [],
    excludeCountries: [],
    text: [],
  };
}

export function isEmptyQuery(query: ParsedQuery): boolean {
  return (
    query.createdFrom === undefined &&
    query.createdTo === undefined &&
    query.text.length === 0 &&
    listFields.every(
      ([positive, negative]) => query[positive].length + query[negative].length === 0,
    )
  );
}

export type ListField = Exclude<
  { [K in keyof ParsedQuery]: ParsedQuery[K] extends string[] ? K : never }[keyof ParsedQuery],
  undefined
>;

/** Printing order, and where each negatable key's values go. */
export const listFields = [
  ["authors", "excludeAuthors", "author"],
  ["types", "excludeTypes", "type"],
  ["categories", "excludeCategories", "category"],
  ["targets", "excludeTargets", "target"],
  ["ipPrefixes", "excludeIpPrefixes", "ip"],
  ["countries", "excludeCountries", "country"],
] as const satisfies readonly (readonly [ListField, ListField, QueryKey])[];

const fieldsByKey = new Map<QueryKey, readonly [ListField, ListField]>(
  listFields.map(([positive, negative, key]) => [key, [positive, negative]]),
);

export function parseQuery(input: string, options: ParseQueryOptions = {}): ParseQueryResult {
  try {
    return { ok: true, query: parseQueryOrThrow(input, options) };
  } catch (error) {
    if (error instanceof QueryParseError) return { ok: false, error };
    throw error;
  }
}

/** `parseQuery` for trusted input: throws `QueryParseError`. */
export function parseQueryOrThrow(input: string, options: ParseQueryOptions = {}): ParsedQuery {
  const isKnownType = options.isKnownType ?? isKnownTypePattern;
  const query = emptyQuery();
  let from: number | undefined;
  let to: number | undefined;
  const add = (list: string[], value: string) => {
    if (!list.includes(value)) list.push(value);
  };

  for (const term of lex(input, options.limits, options.operatorsAsText)) {
    const fail = (kind: QueryParseErrorKind, message: string) =>
      new QueryParseError(kind, message, term.start, term.raw);
    const { qualifier, value } = term;
    if (!qualifier) {
      if (value === "") throw fail("empty_value", "Empty phrase");
      add(query.text, value);
      continue;
    }
    const { key, negated } = qualifier;
    if (key === "created" && negated) {
      throw fail("negated_created", "created cannot be negated: use created:<… or created:>=…");
    }
    if (value === "") throw fail("empty_value", `Missing value after "${key}:"`);
    if (key === "created") {
      const bounds = parseCreated(value);
      if (bounds.error !== undefined) throw fail(bounds.kind, bounds.error);
      if (bounds.from !== undefined) {
        if (bounds.from > maxInstant) throw fail("bad_date", "Date out of range");
        if (bounds.from >= minInstant)
          from = from === undefined ? bounds.from : Math.max(from, bounds.from);
      }
      if (bounds.to !== undefined) {
        if (bounds.to < minInstant) throw fail("bad_date", "Date out of range");
        if (bounds.to <= maxInstant) to = to === undefined ? bounds.to : Math.min(to, bounds.to);
      }
      continue;
    }
    const normalized = normalizeValue(key, value, isKnownType);
    if (normalized.error !== undefined) throw fail(normalized.kind, normalized.error);
    const [positive, negative] = fieldsByKey.get(key) as readonly [ListField, ListField];
    add(query[negated ? negative : positive], normalized.value);
  }

  if (from !== undefined) query.createdFrom = new Date(from).toISOString();
  if (to !== undefined) query.createdTo = new Date(to).toISOString();
  return query;
}
