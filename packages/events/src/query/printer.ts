import { isQueryOperator } from "./lexer.ts";
import { listFields, type ParsedQuery } from "./parser.ts";
import { dayMs } from "./values.ts";

function quote(text: string): string {
  return `"${text.replace(/[\\"]/g, (c) => `\\${c}`)}"`;
}

function printValue(value: string): string {
  return value === "" || /[\s"\\()]/.test(value) ? quote(value) : value;
}

function printText(text: string): string {
  return text === "" || /[\s"\\:()]/.test(text) || text.startsWith("-") || isQueryOperator(text)
    ? quote(text)
    : text;
}

function isMidnight(iso: string): boolean {
  return iso.endsWith("T00:00:00.000Z");
}

function printInstant(iso: string): string {
  return isMidnight(iso) ? iso.slice(0, 10) : iso;
}

/**
 * The canonical query string for `query`: keys in a fixed order (author, type, category, target,
 * ip, country, created, then text), exclusions after inclusions, values quoted only when needed,
 * whole-day bounds written as dates (`created:2026-01-01`, `created:2026-01-01..2026-01-31`).
 * `parseQuery(printQuery(q))` gives back `q` for any normalised `q`.
 */
export function printQuery(query: ParsedQuery): string {
  const terms: string[] = [];
  for (const [positive, negative, key] of listFields) {
    for (const value of query[positive]) terms.push(`${key}:${printValue(value)}`);
    for (const value of query[negative]) terms.push(`-${key}:${printValue(value)}`);
  }
  const { createdFrom: from, createdTo: to } = query;
  if (from !== undefined && to !== undefined && isMidnight(from) && isMidnight(to) && from < to) {
    const last = new Date(Date.parse(to) - dayMs).toISOString().slice(0, 10);
    const first = from.slice(0, 10);
    terms.push(first === last ? `created:${first}` : `created:${first}..${last}`);
  } else {
    if (from !== undefined) terms.push(`created:>=${printInstant(from)}`);
    if (to !== undefined) terms.push(`created:<${printInstant(to)}`);
  }
  for (const text of query.text) terms.push(printText(text));
  return terms.join(" ");
}
