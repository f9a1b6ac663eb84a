import {
  type CreateExportRequest,
  emptyQuery,
  type ParsedQuery,
  parseQuery,
  printQuery,
  storedQueryLimits,
} from "@auditlog/events";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError, type ErrorDetail } from "../errors.ts";

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

/** A filter as received, before validation: from query parameters or from a JSON body. */
interface EntryQuerySource {
  q: string | undefined;
  /** Raw values per parameter; each but `text` may hold a comma-separated list. */
  values(parameter: keyof typeof parameterKeys): string[] | undefined;
  from: string | undefined;
  to: string | undefined;
  includeHidden: string | boolean | undefined;
  /** Prefix of the field paths named in errors (`filters.` for an export request's body). */
  pathPrefix: string;
}

export function readEntryQuery(c: Context<AppEnv>): EntryQueryInput {
  return parseEntryQuery({
    q: c.req.query("q"),
    values: (parameter) => c.req.queries(parameter),
    from: c.req.query("from"),
    to: c.req.query("to"),
    includeHidden: c.req.query("includeHidden"),
    pathPrefix: "",
  });
}

/**
 * An export request's `q` and `filters`, validated by the same grammar as the query API's
 * parameters (errors name `q` and `filters.<key>`). The printed filter must itself parse, since
 * the worker applies exactly that text.
 */
export function readExportQuery(
  request: Pick<CreateExportRequest, "q" | "filters">,
): EntryQueryInput {
  const filters = request.filters ?? {};
  const values = {
    actor: filters.actor === undefined ? undefined : [filters.actor],
    author: undefined,
    type: filters.type,
    category: filters.category,
    target: filters.target === undefined ? undefined : [filters.target],
    ip: filters.ip === undefined ? undefined : [filters.ip],
    country: filters.country === undefined ? undefined : [filters.country],
    text: filters.text === undefined ? undefined : [filters.text],
  } satisfies Record<keyof typeof parameterKeys, string[] | undefined>;
  const input = parseEntryQuery({
    q: request.q,
    values: (parameter) => values[parameter],
    from: filters.from,
    to: filters.to,
    includeHidden: filters.includeHidden,
    pathPrefix: "filters.",
  });
  // The worker applies exactly the printed text, so it must parse back (it always should).
  const reparsed = parseQuery(input.printed, { limits: storedQueryLimits });
  if (!reparsed.ok) {
    throw new ApiError("bad_request", "invalid filter", [
      {
        path: request.filters ? "filters" : "q",
        message: `the combined filter cannot be stored (${reparsed.error.message}); narrow it`,
      },
    ]);
  }
  return input;
}

function parseEntryQuery(source: EntryQuerySource): EntryQueryInput {
  const issues: ErrorDetail[] = [];
  const parts: ParsedQuery[] = [];
  const path = (name: string) => `${source.pathPrefix}${name}`;

  const q = source.q;
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
    const values = source
      .values(parameter as keyof typeof parameterKeys)
      ?.flatMap((value) => (field === "text" ? [value] : value.split(",")))
      .map((value) => value.trim())
      .filter((value) => value !== "");
    if (!values?.length) continue;
    const parsed = parseQuery(printQuery({ ...emptyQuery(), [field]: values }));
    if (parsed.ok) parts.push(parsed.query);
    else issues.push({ path: path(parameter), message: parsed.error.message });
  }

  for (const [parameter, operator] of [
    ["from", ">="],
    ["to", "<"],
  ] as const) {
    const value = source[parameter];
    if (!value) continue;
    const parsed = parseQuery(`created:${operator}${value}`);
    if (parsed.ok) parts.push(parsed.query);
    else {
      issues.push({ path: path(parameter), message: "must be an ISO 8601 date or date-time" });
    }
  }

  const includeHidden = source.includeHidden;
  if (typeof includeHidden === "string" && !["true", "false"].includes(includeHidden)) {
    issues.push({ path: path("includeHidden"), message: "must be true or false" });
  }
  if (issues.length > 0) {
    throw new ApiError("bad_request", "invalid filter", issues);
  }
  const query = parts.reduce(mergeQueries, emptyQuery());
  const printed = printQuery(query);
  // Exports store and the log records the whole filter: it must fit what they hold.
  if (printed.length > storedQueryLimits.maxLength) {
    throw new ApiError("bad_request", "invalid filter", [
      {
        path: source.q ? "q" : "filters",
        message: `the combined filter is too large (${printed.length} characters printed, at most ${storedQueryLimits.maxLength}); narrow it`,
      },
    ]);
  }
  return {
    query,
    includeHidden: includeHidden === true || includeHidden === "true",
    printed,
  };
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
