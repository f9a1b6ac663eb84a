import {
  type CreateExportRequest,
  type ExportFormat,
  isKnownTypePattern,
  parseQuery,
  printQuery,
} from "@auditlog/events";

export const rangePresets = ["all", "24h", "7d", "30d", "custom"] as const;
export type RangePreset = (typeof rangePresets)[number];

export const rangeLabels: Record<RangePreset, string> = {
  all: "All time",
  "24h": "24 hours",
  "7d": "7 days",
  "30d": "30 days",
  custom: "Custom",
};

const presetSpanMs: Record<"24h" | "7d" | "30d", number> = {
  "24h": 24 * 3_600_000,
  "7d": 7 * 86_400_000,
  "30d": 30 * 86_400_000,
};

/**
 * What the log shows, as it lives in the address bar:
 * `?q=author:alice&type=repo.create,repo.delete&range=custom&from=…&to=…&entry=evt_…`.
 */
export interface LogFilters {
  /** The query-language text, as typed. */
  q: string;
  /**
   * Types (or `scope.*` patterns) as separate parameters. The console no longer writes these (the
   * type picker edits `type:` terms of `q`); a `type=` parameter in an older link joins `q`.
   */
  types: string[];
  range: RangePreset;
  /** ISO instants, for the custom range only. */
  from?: string;
  to?: string;
}

export const defaultFilters: LogFilters = { q: "", types: [], range: "all" };

function isoOrUndefined(value: string | null): string | undefined {
  if (!value) return undefined;
  const time = Date.parse(value);
  return Number.isNaN(time) ? undefined : new Date(time).toISOString();
}

function withTypeTerms(q: string, types: string[]): string {
  const parsed = parseQuery(q);
  if (!parsed.ok) return [q.trim(), ...types.map((type) => `type:${type}`)].join(" ").trim();
  const merged = [...new Set([...parsed.query.types, ...types])];
  return printQuery({ ...parsed.query, types: merged });
}

export function filtersFromSearch(search: string): LogFilters {
  const params = new URLSearchParams(search);
  const types = [
    ...new Set(
      params
        .getAll("type")
        .flatMap((value) => value.split(","))
        .map((value) => value.trim())
        .filter((value) => value !== "" && isKnownTypePattern(value)),
    ),
  ].sort();
  const rangeText = params.get("range");
  let range: RangePreset = (rangePresets as readonly string[]).includes(rangeText ?? "")
    ? (rangeText as RangePreset)
    : "all";
  const from = isoOrUndefined(params.get("from"));
  const to = isoOrUndefined(params.get("to"));
  if ((from || to) && rangeText === null) range = "custom";
  // The type picker writes `type:` terms into q; a `type=` parameter (links made before) joins q.
  const q = params.get("q") ?? "";
  const filters: LogFilters = {
    q: types.length > 0 ? withTypeTerms(q, types) : q,
    types: [],
    range,
  };
  if (range === "custom") {
    if (from) filters.from = from;
    if (to) filters.to = to;
  }
  return filters;
}

/** The query string for `filters` (and an open entry), without defaults; "" when all default. */
export function filtersToSearch(
  filters: LogFilters,
  extra: { entry?: string | null } = {},
): string {
  const params = new URLSearchParams();
  if (filters.q.trim()) params.set("q", filters.q.trim());
  if (filters.types.length > 0) params.set("type", filters.types.join(","));
  if (filters.range !== "all") params.set("range", filters.range);
  if (filters.range === "custom") {
    if (filters.from) params.set("from", filters.from);
    if (filters.to) params.set("to", filters.to);
  }
  if (extra.entry) params.set("entry", extra.entry);
  const text = params.toString();
  return text ? `?${text}` : "";
}

/**
 * The filter with its time range made absolute at `anchor` (when the view was loaded or last
 * refreshed), so every page of one listing and the chart agree on the same range.
 */
export interface ResolvedFilters {
  q: string;
  types: string[];
  from?: string;
  to?: string;
}

export function resolveFilters(filters: LogFilters, anchor: number): ResolvedFilters {
  const resolved: ResolvedFilters = { q: filters.q.trim(), types: filters.types };
  if (filters.range === "custom") {
    if (filters.from) resolved.from = filters.from;
    if (filters.to) resolved.to = filters.to;
  } else if (filters.range !== "all") {
    resolved.from = new Date(anchor - presetSpanMs[filters.range]).toISOString();
  }
  return resolved;
}

/** Query parameters of the list and histogram endpoints. */
export function toSearchParams(filters: ResolvedFilters): URLSearchParams {
  const params = new URLSearchParams();
  if (filters.q) params.set("q", filters.q);
  if (filters.types.length > 0) params.set("type", filters.types.join(","));
  if (filters.from) params.set("from", filters.from);
  if (filters.to) params.set("to", filters.to);
  return params;
}

/** `POST …/exports` for the filter on screen. */
export function toExportRequest(
  filters: ResolvedFilters,
  format: ExportFormat,
): CreateExportRequest {
  const request: CreateExportRequest = { format };
  if (filters.q) request.q = filters.q;
  const exportFilters: NonNullable<CreateExportRequest["filters"]> = {};
  if (filters.types.length > 0) exportFilters.type = filters.types;
  if (filters.from) exportFilters.from = filters.from;
  if (filters.to) exportFilters.to = filters.to;
  if (Object.keys(exportFilters).length > 0) request.filters = exportFilters;
  return request;
}

export function hasActiveFilters(filters: LogFilters): boolean {
  return filters.q.trim() !== "" || filters.types.length > 0 || filters.range !== "all";
}
