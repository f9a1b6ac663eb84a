import {
  type Category,
  categories,
  categoryLabels,
  countryCodes,
  eventSummaries,
  foldForMatch,
  type QueryKeyInfo,
  queryKeys,
  type SuggestionKey,
  suggestionKeys,
} from "@auditlog/events";
import { zonedDayTerm, zoneLabel } from "../../lib/format-time.ts";
import type { RecentValues } from "../../lib/recent-values.ts";

export interface CompletionOption {
  id: string;
  /** The text that replaces the term being typed. */
  insert: string;
  label: string;
  detail?: string;
}

export interface CompletionGroup {
  label: string;
  options: CompletionOption[];
}

export interface Completion {
  /** The span of `text` that an option replaces. */
  from: number;
  to: number;
  groups: CompletionGroup[];
}

const maxOptions = 200;

/** Values of author, target or ip the server found for what is typed (`prefix`). */
export interface RemoteValues {
  key: SuggestionKey;
  prefix: string;
  values: { value: string; label?: string }[];
}

/**
 * The key and partial value of the term at `caret` when the server can complete it (author,
 * target, ip), e.g. `author:zo` → `{ key: "author", prefix: "zo" }`; otherwise null.
 */
export function remoteTermAt(
  text: string,
  caret: number,
): { key: SuggestionKey; prefix: string } | null {
  const { start } = termAt(text, caret);
  const match = /^-?([A-Za-z]+):(.*)$/s.exec(text.slice(start, caret));
  if (!match) return null;
  const info = keyFor(match[1] ?? "");
  if (!info || !(suggestionKeys as readonly string[]).includes(info.key)) return null;
  const prefix = (match[2] ?? "").replace(/^"/, "").replace(/"$/, "");
  return { key: info.key as SuggestionKey, prefix };
}

/** The term around `caret`: whitespace separates terms, except inside double quotes. */
export function termAt(text: string, caret: number): { start: number; end: number } {
  let start = 0;
  let inQuote = false;
  for (let i = 0; i < caret; i++) {
    const c = text.charAt(i);
    if (c === "\\" && inQuote) i++;
    else if (c === '"') inQuote = !inQuote;
    else if (!inQuote && /\s/.test(c)) start = i + 1;
  }
  let end = caret;
  for (; end < text.length; end++) {
    const c = text.charAt(end);
    if (c === "\\" && inQuote) end++;
    else if (c === '"') inQuote = !inQuote;
    else if (!inQuote && /\s/.test(c)) break;
  }
  return { start, end: Math.min(end, text.length) };
}

/** A value as the query language needs it written: quoted when it has spaces or quotes. */
export function printValue(value: string): string {
  return value === "" || /[\s"\\()]/.test(value)
    ? `"${value.replace(/[\\"]/g, (c) => `\\${c}`)}"`
    : value;
}

const typeScopes = [
  ...new Set(
    eventSummaries.flatMap((definition) => {
      const parts = definition.type.split(".");
      return parts.length > 2
        ? [`${parts[0]}.*`, `${parts.slice(0, 2).join(".")}.*`]
        : [`${parts[0]}.*`];
    }),
  ),
].sort();

function keyFor(name: string): QueryKeyInfo | undefined {
  const lower = name.toLowerCase();
  return queryKeys.find((info) => info.key === lower || info.aliases.includes(lower));
}

/**
 * Completion for the term at `caret`: keys while a key is being typed (`typ` → `type:`), then
 * the values of that key: event types grouped by category (and `scope.*` wildcards) from the
 * catalog, categories, countries, date presets (days of `timeZone`, the declared zone: plain
 * dates are UTC days in the query language, so elsewhere they carry the zone's offset), and the
 * values used recently.
 */
export function completeQuery(
  text: string,
  caret: number,
  recent: RecentValues = {},
  now: number = Date.now(),
  timeZone = "UTC",
  remote: RemoteValues | null = null,
): Completion | null {
  const { start, end } = termAt(text, caret);
  const term = text.slice(start, caret);
  const keyMatch = /^(-?)([A-Za-z]*)$/.exec(term);
  if (keyMatch) {
    const negated = keyMatch[1] === "-";
    const partial = (keyMatch[2] ?? "").toLowerCase();
    const options = queryKeys
      .filter((info) => !negated || info.negatable)
      .filter((info) => [info.key, ...info.aliases].some((name) => name.startsWith(partial)))
      .map((info) => ({
        id: `key-${negated ? "not-" : ""}${info.key}`,
        insert: `${negated ? "-" : ""}${info.key}:`,
        label: `${negated ? "-" : ""}${info.key}:`,
        detail: negated ? `Exclude: ${info.description.toLowerCase()}` : info.description,
      }));
    if (options.length === 0) return null;
    return {
      from: start,
      to: end,
      groups: [{ label: negated ? "Exclude" : "Filter by", options }],
    };
  }

  const valueMatch = /^(-?)([A-Za-z]+):(.*)$/s.exec(term);
  if (!valueMatch) return null;
  const info = keyFor(valueMatch[2] ?? "");
  if (!info) return null;
  const prefix = `${valueMatch[1]}${info.key}:`;
  const partial = (valueMatch[3] ?? "").replace(/^"/, "").replace(/"$/, "");
  const needle = partial.toLowerCase();
  const groups: CompletionGroup[] = [];
  const option = (value: string, detail?: string): CompletionOption => ({
    id: `value-${info.key}-${value}`,
    insert: `${prefix}${printValue(value)} `,
    label: value,
    ...(detail ? { detail } : {}),
  });
  // Accents and case aside: `zo` finds "Zoë".
  const foldedNeedle = foldForMatch(partial);
  const contains = (value: string) => foldForMatch(value).includes(foldedNeedle);

  const recentValues = (recent[info.key] ?? []).filter(contains);
  if (recentValues.length > 0) {
    groups.push({ label: "Recent", options: recentValues.map((value) => option(value)) });
  }
  if (remote && remote.key === info.key) {
    // Already matched by the server (whole log, accent-insensitive); a value also in Recent is
    // listed once.
    const seen = new Set(recentValues);
    const options = remote.values
      .filter(({ value }) => !seen.has(value))
      .map(({ value, label }) => option(value, label));
    if (options.length > 0) groups.push({ label: "In this log", options });
  }

  if (info.key === "type") {
    const scopes = typeScopes.filter(contains);
    if (scopes.length > 0) {
      groups.push({
        label: "Wildcards",
        options: scopes.map((scope) => option(scope, `Every ${scope.slice(0, -2)} event`)),
      });
    }
    for (const category of categories) {
      const options = eventSummaries
        .filter((definition) => definition.category === category)
        .filter((definition) => contains(definition.type) || contains(definition.title))
        .map((definition) => option(definition.type, definition.title));
      if (options.length > 0) groups.push({ label: categoryLabels[category], options });
    }
  } else if (info.key === "category") {
    groups.push({
      label: "Categories",
      options: categories
        .filter((category: Category) => contains(category) || contains(categoryLabels[category]))
        .map((category) => option(category, categoryLabels[category])),
    });
  } else if (info.key === "country") {
    groups.push({
      label: "Countries",
      options: countryCodes
        .filter((code) => code.toLowerCase().startsWith(needle))
        .map((code) => option(code)),
    });
  } else if (info.key === "created") {
    const day = (back: number, end = false) => zonedDayTerm(now, back, timeZone, end);
    const utc = zoneLabel(timeZone) === "UTC";
    groups.push({
      label: `Dates (${zoneLabel(timeZone)})`,
      options: [
        option(utc ? day(0) : `>=${day(0)}`, "Today"),
        option(`>=${day(1)}`, "Since yesterday"),
        option(`>=${day(7)}`, "The last 7 days"),
        option(`>=${day(30)}`, "The last 30 days"),
        option(`${day(7)}..${utc ? day(0) : day(0, true)}`, "A range of days"),
      ].filter((candidate) => candidate.label.startsWith(partial)),
    });
  }

  let budget = maxOptions;
  const bounded = groups
    .map((group) => {
      const options = group.options.slice(0, Math.max(0, budget));
      budget -= options.length;
      return { ...group, options };
    })
    .filter((group) => group.options.length > 0);
  if (bounded.length === 0) return null;
  return { from: start, to: end, groups: bounded };
}

/** `text` with `option` applied, and where the caret goes. */
export function applyCompletion(
  text: string,
  completion: Pick<Completion, "from" | "to">,
  option: CompletionOption,
): { text: string; caret: number } {
  const after = text.slice(completion.to);
  const insert =
    option.insert.endsWith(" ") && /^\s/.test(after) ? option.insert.trimEnd() : option.insert;
  const next = `${text.slice(0, completion.from)}${insert}${after}`;
  const caret = completion.from + insert.length + (insert === option.insert ? 0 : 1);
  return { text: next, caret };
}
