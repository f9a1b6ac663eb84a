import {
  emptyQuery,
  eventSummaries,
  matchesTypePattern,
  type ParsedQuery,
  parseQuery,
  printQuery,
} from "@auditlog/events";

/**
 * Edits of the query text `q` made by clicks (pivots, chips, the type picker). `q` stays the one
 * source of truth: each edit parses it with the shared parser, changes the parsed query and prints
 * it back with the shared printer, so the chips, the facets and the picker always show what the
 * API will apply.
 */

/** The query keys a value can be pivoted on. */
export type PivotKey = "author" | "type" | "category" | "target" | "ip" | "country";
export type PivotMode = "only" | "exclude";

type ListField = Exclude<keyof ParsedQuery, "createdFrom" | "createdTo" | "text">;

const fields: Record<PivotKey, readonly [ListField, ListField]> = {
  author: ["authors", "excludeAuthors"],
  type: ["types", "excludeTypes"],
  category: ["categories", "excludeCategories"],
  target: ["targets", "excludeTargets"],
  ip: ["ipPrefixes", "excludeIpPrefixes"],
  country: ["countries", "excludeCountries"],
};

/** `value` written as the query language needs it (quoted when it must be). */
function termText(key: PivotKey, value: string, negated = false): string {
  const query: ParsedQuery = { ...emptyQuery(), [fields[key][negated ? 1 : 0]]: [value] };
  return printQuery(query);
}

function copy(query: ParsedQuery): ParsedQuery {
  return structuredClone(query);
}

function list(query: ParsedQuery, field: ListField): string[] {
  return query[field] as string[];
}

function setList(query: ParsedQuery, field: ListField, values: string[]): void {
  (query as Record<ListField, string[]>)[field] = values;
}

/** The term's value as the parser normalises it, or null when the key cannot take it. */
function normalized(key: PivotKey, value: string): string | null {
  const parsed = parseQuery(termText(key, value));
  if (!parsed.ok) return null;
  return list(parsed.query, fields[key][0])[0] ?? null;
}

/**
 * `q` narrowed to `value` ("only this": it becomes the key's one alternative) or with `value`
 * excluded. A `q` that does not parse gets the term appended, so the error stays visible.
 */
export function pivotQuery(q: string, key: PivotKey, value: string, mode: PivotMode): string {
  const normal = normalized(key, value);
  if (normal === null) return q;
  const parsed = parseQuery(q);
  if (!parsed.ok) return `${q.trim()} ${termText(key, normal, mode === "exclude")}`.trim();
  const next = copy(parsed.query);
  const [positive, negative] = fields[key];
  if (mode === "only") {
    setList(next, positive, [normal]);
    setList(
      next,
      negative,
      list(next, negative).filter((v) => v !== normal),
    );
  } else {
    setList(
      next,
      positive,
      list(next, positive).filter((v) => v !== normal),
    );
    if (!list(next, negative).includes(normal)) {
      setList(next, negative, [...list(next, negative), normal]);
    }
  }
  return printQuery(next);
}

/** Whether `value` is one of the key's positive alternatives in `q`. */
export function isSelected(q: string, key: PivotKey, value: string): boolean {
  const parsed = parseQuery(q);
  const normal = normalized(key, value);
  return parsed.ok && normal !== null && list(parsed.query, fields[key][0]).includes(normal);
}

/** `q` without `value` among the key's alternatives (the other way back from "only this"). */
export function removeValue(q: string, key: PivotKey, value: string): string {
  const parsed = parseQuery(q);
  const normal = normalized(key, value);
  if (!parsed.ok || normal === null) return q;
  const next = copy(parsed.query);
  for (const field of fields[key]) {
    setList(
      next,
      field,
      list(next, field).filter((v) => v !== normal),
    );
  }
  return printQuery(next);
}

/** One active filter of `q`, as a removable chip. */
export interface QueryChip {
  id: string;
  /** The term as the query language writes it, e.g. `-author:"Jane Doe"`. */
  text: string;
  negated: boolean;
  /** `q` without this term. */
  without: string;
}

/** The terms of `q` as chips, in the printer's order; null when `q` does not parse. */
export function queryChips(q: string): QueryChip[] | null {
  const parsed = parseQuery(q);
  if (!parsed.ok) return null;
  const query = parsed.query;
  const empty = emptyQuery();
  const chips: QueryChip[] = [];
  for (const key of Object.keys(fields) as PivotKey[]) {
    fields[key].forEach((field, index) => {
      for (const value of list(query, field)) {
        const next = copy(query);
        setList(
          next,
          field,
          list(next, field).filter((v) => v !== value),
        );
        chips.push({
          id: `${field}:${value}`,
          text: printQuery({ ...empty, [field]: [value] }),
          negated: index === 1,
          without: printQuery(next),
        });
      }
    });
  }
  if (query.createdFrom !== undefined || query.createdTo !== undefined) {
    const next = copy(query);
    delete next.createdFrom;
    delete next.createdTo;
    const only: ParsedQuery = { ...empty };
    if (query.createdFrom !== undefined) only.createdFrom = query.createdFrom;
    if (query.createdTo !== undefined) only.createdTo = query.createdTo;
    chips.push({
      id: "created",
      text: printQuery(only),
      negated: false,
      without: printQuery(next),
    });
  }
  for (const text of query.text) {
    const next = copy(query);
    next.text = next.text.filter((t) => t !== text);
    chips.push({
      id: `text:${text}`,
      text: printQuery({ ...empty, text: [text] }),
      negated: false,
      without: printQuery(next),
    });
  }
  return chips;
}

const catalogTypes = eventSummaries.map((definition) => definition.type);

/** Every `scope.*` wildcard of the catalog, broadest first (`org.*` before `org.settings.*`). */
const typeScopes = [
  ...new Set(
    catalogTypes.flatMap((type) => {
      const parts = type.split(".");
      return parts.slice(1).map((_, i) => `${parts.slice(0, i + 1).join(".")}.*`);
    }),
  ),
].sort((a, b) => a.split(".").length - b.split(".").length || a.localeCompare(b));

/** The types a wildcard stands for; an exact type stands for itself only (in the picker). */
function typesOf(pattern: string): string[] {
  return pattern.endsWith(".*")
    ? catalogTypes.filter((type) => matchesTypePattern(pattern, type))
    : [pattern];
}

/** The catalog types the positive `type:` terms of `q` select (what the picker shows checked). */
export function selectedTypes(q: string): string[] {
  const parsed = parseQuery(q);
  if (!parsed.ok) return [];
  return [...new Set(parsed.query.types.flatMap(typesOf))].sort();
}

/**
 * The shortest `type:` terms for a set of types: a whole scope as `scope.*` (`type:repo.*`, not
 * every repo type), the rest by name.
 */
export function compressTypes(types: readonly string[]): string[] {
  const chosen = new Set(types);
  const covered = new Set<string>();
  const patterns: string[] = [];
  for (const scope of typeScopes) {
    const members = typesOf(scope);
    if (members.length < 2 || !members.every((type) => chosen.has(type))) continue;
    if (members.every((type) => covered.has(type))) continue;
    patterns.push(scope);
    for (const type of members) covered.add(type);
  }
  for (const type of [...chosen].sort()) if (!covered.has(type)) patterns.push(type);
  return patterns;
}

/** `q` with its positive `type:` terms replaced by `types` (compressed); other terms kept. */
export function withTypes(q: string, types: readonly string[]): string {
  const parsed = parseQuery(q);
  const patterns = compressTypes(types);
  if (!parsed.ok) {
    return [q.trim(), ...patterns.map((p) => `type:${p}`)].filter(Boolean).join(" ");
  }
  return printQuery({ ...parsed.query, types: patterns });
}
