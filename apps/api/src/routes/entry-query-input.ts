import { emptyQuery, type ParsedQuery, parseQuery, printQuery } from "@auditlog/events";
import type { Context } from "hono";
import { ApiError, type ErrorDetail } from "../errors.ts";
import type { AppEnv } from "../types.ts";

/**
 * Query parameters that mirror the `q` keys. Each is turned into the same grammar and parsed by
 * the shared parser, so a value is validated (and normalised) exactly as it would be in `q`.
 */
const parameterKeys = {
  actor: "authors",
  author: "authors",
  type: "types",
  category: "categories",
  target: "targets",
  ip: "ipPrefixes",
  country: "countries",
  text: "text",
} as const satisfies Record<string, keyof ParsedQuery>;

export interface EntryQueryInput {
  query: ParsedQuery;
  includeHidden: boolean;
  /** The whole filter in the query language, e.g. to record what an export selected. */
  printed: string;
}

export function readEntryQuery(c: Context<AppEnv>): EntryQueryInput {
  const issues: ErrorDetail[] = [];
  const parts: ParsedQuery[] = [];

  const q = c.req.query("q");
  if (q !== undefined && q.trim() !== "") {
    const parsed = parseQuery(q);
    if (parsed.ok) parts.push(parsed.query);
    else {
      issues.push({
        path: "q",
        message: `${parsed.error.message} at position ${parsed.error.position}`,
        position: parsed.error.position,
        token: parsed.error.token,
      });
    }
  }

  for (const [parameter, field] of Object.entries(parameterKeys)) {
    const values = c.req
      .queries(parameter)
      ?.flatMap((value) => (field === "text" ? [value] : value.split(",")))
      .map((value) => value.trim())
      .filter((value) => value !== "");
    if (!values?.length) continue;
    const parsed = parseQuery(printQuery({ ...emptyQuery(), [field]: values }));
    if (parsed.ok) parts.push(parsed.query);
    else issues.push({ path: parameter, message: parsed.error.message });
  }

  for (const [parameter, operator] of [
    ["from", ">="],
    ["to", "<"],
  ] as const) {
    const value = c.req.query(parameter);
    if (!value) continue;
    const parsed = parseQuery(`created:${operator}${value}`);
    if (parsed.ok) parts.push(parsed.query);
    else {
      issues.push({ path: parameter, message: "must be an ISO 8601 date or date-time" });
    }
  }

  const includeHiddenText = c.req.query("includeHidden");
  if (includeHiddenText !== undefined && !["true", "false"].includes(includeHiddenText)) {
    issues.push({ path: "includeHidden", message: "must be true or false" });
  }
  if (issues.length > 0) {
    throw new ApiError("bad_request", "invalid filter", issues);
  }
  const query = parts.reduce(mergeQueries, emptyQuery());
  return { query, includeHidden: includeHiddenText === "true", printed: printQuery(query) };
}

/** Both filters at once: lists of alternatives are united per key, time bounds intersected. */
export function mergeQueries(a: ParsedQuery, b: ParsedQuery): ParsedQuery {
  const union = <T>(x: T[], y: T[]) => [...new Set([...x, ...y])];
  const merged: ParsedQuery = {
    authors: union(a.authors, b.authors),
    excludeAuthors: union(a.excludeAuthors, b.excludeAuthors),
    types: union(a.types, b.types),
    excludeTypes: union(a.excludeTypes, b.excludeTypes),
    categories: union(a.categories, b.categories),
    excludeCategories: union(a.excludeCategories, b.excludeCategories),
    targets: union(a.targets, b.targets),
    excludeTargets: union(a.excludeTargets, b.excludeTargets),
    ipPrefixes: union(a.ipPrefixes, b.ipPrefixes),
    excludeIpPrefixes: union(a.excludeIpPrefixes, b.excludeIpPrefixes),
    countries: union(a.countries, b.countries),
    excludeCountries: union(a.excludeCountries, b.excludeCountries),
    text: union(a.text, b.text),
  };
  const from = [a.createdFrom, b.createdFrom]
    .filter((v): v is string => !!v)
    .sort()
    .at(-1);
  const to = [a.createdTo, b.createdTo].filter((v): v is string => !!v).sort()[0];
  if (from) merged.createdFrom = from;
  if (to) merged.createdTo = to;
  return merged;
}

export function readLimit(c: Context<AppEnv>, fallback: number, max: number): number {
  const text = c.req.query("limit");
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ApiError("bad_request", "invalid limit", [
      { path: "limit", message: `must be an integer from 1 to ${max}` },
    ]);
  }
  return limit;
}
