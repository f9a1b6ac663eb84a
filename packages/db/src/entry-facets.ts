import {
  type AuditFacets,
  type AuditSuggestions,
  type FacetKey,
  facetKeys,
  facetScanLimit,
  foldForMatch,
  matchesWordPrefix,
  type ParsedQuery,
  type SuggestionKey,
} from "@auditlog/events";
import { type Database, sqlOf } from "./database.ts";
import { buildEntryFilter, type EntryQueryOptions } from "./entry-queries.ts";

/** The SQL of one facet's values, in the grouping sets below. */
const facetColumns: Record<FacetKey, string> = {
  actor: "actor_name",
  type: "type",
  category: "category",
  country: "country_code",
  target: "target_id",
};

interface FacetInput {
  orgId: string;
  query: ParsedQuery;
  limit: number;
  options?: EntryQueryOptions;
  scanLimit?: number;
}

/** The statement `facetEntries` runs (exported so tests can EXPLAIN it). */
export function facetSql(input: FacetInput & { scanLimit: number }): {
  text: string;
  values: unknown[];
} {
  const { where, params } = buildEntryFilter(input.orgId, input.query, input.options);
  const scan = params.add(input.scanLimit);
  const limit = params.add(input.limit);
  const facetOf = facetKeys
    .map((key) => `WHEN grouping(${facetColumns[key]}) = 0 THEN '${key}'`)
    .join(" ");
  const text = `WITH matched AS (
       SELECT actor_name, type, category, country_code, target_id, target_name
       FROM audit_entries WHERE ${where}
       ORDER BY occurred_at DESC, id DESC LIMIT ${scan}
     ), counted AS (
       SELECT CASE ${facetOf} ELSE 'all' END AS facet,
              COALESCE(${facetKeys.map((key) => facetColumns[key]).join(", ")}) AS value,
              max(target_name) AS label, count(*)::int AS n
       FROM matched
       GROUP BY GROUPING SETS (${facetKeys.map((key) => `(${facetColumns[key]})`).join(", ")}, ())
     ), ranked AS (
       SELECT facet, value, label, n,
              row_number() OVER (PARTITION BY facet ORDER BY n DESC, value) AS rank,
              count(*) OVER (PARTITION BY facet)::int AS distinct_values
       FROM counted WHERE value IS NOT NULL OR facet = 'all'
     )
     SELECT facet, value, label, n, distinct_values FROM ranked WHERE rank <= ${limit}
     ORDER BY facet, rank`;
  return { text, values: params.values };
}

/**
 * The most frequent values of each facet among the entries a query selects, in one pass: the
 * newest `scanLimit` matching entries are read once (newest-first, by the same indexes as the
 * list: `(org_id, occurred_at)`, or `(org_id, type, …)` / `(org_id, actor_name, …)` under a type
 * or author filter) and grouped by every facet at once with GROUPING SETS; each facet's values
 * are ranked in SQL so only the top `limit` of each leave PostgreSQL.
 */
export async function facetEntries(db: Database, input: FacetInput): Promise<AuditFacets> {
  const scanLimit = input.scanLimit ?? facetScanLimit;
  const sql = facetSql({ ...input, scanLimit });
  const { rows } = await sqlOf(db).query<{
    facet: FacetKey | "all";
    value: string | null;
    label: string | null;
    n: number;
    distinct_values: number;
  }>(sql.text, sql.values);
  const facets: AuditFacets["facets"] = {
    actor: [],
    type: [],
    category: [],
    country: [],
    target: [],
  };
  const distinct: AuditFacets["distinct"] = {
    actor: 0,
    type: 0,
    category: 0,
    country: 0,
    target: 0,
  };
  let counted = 0;
  for (const row of rows) {
    if (row.facet === "all") {
      counted = row.n;
      continue;
    }
    const value = row.value as string;
    const label = row.facet === "target" && row.label && row.label !== value ? row.label : null;
    facets[row.facet].push({ value, ...(label ? { label } : {}), count: row.n });
    distinct[row.facet] = row.distinct_values;
  }
  return { facets, distinct, counted, complete: counted < scanLimit };
}

/** How many distinct authors are walked for completion, and how many newest entries for the rest. */
export const suggestionAuthorScan = 5000;
export const suggestionEntryScan = 50_000;

/**
 * Values of `key` for the query bar's completion whose words start with `prefix`, ignoring case
 * and accents. Authors come from the whole log: a loose scan of the `(org_id, actor_name)` index
 * reads each distinct name once (one index probe per name, however many entries each has).
 * Targets and IP addresses have no such index; they come from the newest
 * `suggestionEntryScan` entries. The accent-insensitive match is made here (`foldForMatch`)
 * rather than in SQL, which has no unaccent without an extension.
 */
export async function suggestValues(
  db: Database,
  input: { orgId: string; key: SuggestionKey; prefix: string; limit: number },
): Promise<AuditSuggestions> {
  const pool = sqlOf(db);
  let candidates: { value: string; label: string | null }[];
  if (input.key === "author") {
    const { rows } = await pool.query<{ value: string }>(
      `WITH RECURSIVE names(value, steps) AS (
         (SELECT actor_name, 1 FROM audit_entries WHERE org_id = $1 ORDER BY actor_name LIMIT 1)
         UNION ALL
         SELECT (SELECT actor_name FROM audit_entries
                 WHERE org_id = $1 AND actor_name > names.value ORDER BY actor_name LIMIT 1),
                steps + 1
         FROM names WHERE names.value IS NOT NULL AND steps < $2
       )
       SELECT value FROM names WHERE value IS NOT NULL`,
      [input.orgId, suggestionAuthorScan],
    );
    candidates = rows.map((row) => ({ value: row.value, label: null }));
  } else {
    const column = input.key === "target" ? "target_id" : "host(ip)";
    const { rows } = await pool.query<{ value: string; label: string | null; n: number }>(
      `SELECT ${column} AS value, max(target_name) AS label, count(*)::int AS n
       FROM (SELECT target_id, target_name, ip FROM audit_entries WHERE org_id = $1
             ORDER BY occurred_at DESC, id DESC LIMIT $2) newest
       WHERE ${column} IS NOT NULL GROUP BY 1 ORDER BY n DESC, value`,
      [input.orgId, suggestionEntryScan],
    );
    candidates = rows.map((row) => ({
      value: row.value,
      label: input.key === "target" && row.label !== row.value ? row.label : null,
    }));
  }
  const startsWith = (text: string) => foldForMatch(text).startsWith(foldForMatch(input.prefix));
  const matches = candidates
    .filter(
      (candidate) =>
        matchesWordPrefix(candidate.value, input.prefix) ||
        (candidate.label !== null && matchesWordPrefix(candidate.label, input.prefix)),
    )
    // Values that start with the prefix before those with a later word that does (stable).
    .sort((a, b) => Number(startsWith(b.value)) - Number(startsWith(a.value)));
  return {
    key: input.key,
    values: matches
      .slice(0, input.limit)
      .map(({ value, label }) => ({ value, ...(label ? { label } : {}) })),
  };
}
