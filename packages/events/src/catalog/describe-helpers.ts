import type { Target } from "../envelope.ts";
import { repoTypes } from "./fields.ts";

/** The target's display name, or `fallback` when the event has no target. */
export function targetName(target: Target | undefined, fallback: string): string {
  return target?.name ?? target?.id ?? fallback;
}

/** "model acme/bert", or "repository acme/bert" when the type is unknown. */
export function repoLabel(repo: { type?: string | undefined; name: string }): string {
  return `${repo.type ?? "repository"} ${repo.name}`;
}

/** The repository an event is about: from `data.repo` when present, else from the target. */
export function repoSubject(
  target: Target | undefined,
  repo?: { type?: string | undefined; name: string } | undefined,
  fallback = "a repository",
): string {
  if (repo) return repoLabel(repo);
  if (!target) return fallback;
  const type = (repoTypes as readonly string[]).includes(target.type) ? target.type : "repository";
  return `${type} ${targetName(target, "")}`;
}

/** "a", "a and b", "a, b and c", "a, b, c and 4 more". */
export function list(items: readonly string[], max = 3): string {
  if (items.length === 0) return "";
  if (items.length === 1) return items[0] as string;
  if (items.length <= max) return `${items.slice(0, -1).join(", ")} and ${items.at(-1)}`;
  return `${items.slice(0, max).join(", ")} and ${items.length - max} more`;
}

/** "1 secret", "3 secrets". */
export function count(n: number, singular: string, plural = `${singular}s`): string {
  return `${n} ${n === 1 ? singular : plural}`;
}

/** " (a, b, c)", " (a, b, c, d, e, +2 more)" or "" — optional detail appended to a sentence. */
export function details(items: readonly string[] | undefined, max = 5): string {
  if (!items || items.length === 0) return "";
  const shown = items.slice(0, max).join(", ");
  return ` (${items.length > max ? `${shown}, +${items.length - max} more` : shown})`;
}

/** "enabled" / "disabled" / `otherwise` when the flag is absent. */
export function toggled(enabled: boolean | undefined, otherwise: string): string {
  if (enabled === undefined) return otherwise;
  return enabled ? "enabled" : "disabled";
}

/** "never", "45 seconds", "15 minutes", "2 hours", "3 days". */
export function duration(seconds: number): string {
  if (seconds < 0) return "never";
  if (seconds % 86_400 === 0 && seconds > 0) return count(seconds / 86_400, "day");
  if (seconds % 3_600 === 0 && seconds > 0) return count(seconds / 3_600, "hour");
  if (seconds % 60 === 0 && seconds > 0) return count(seconds / 60, "minute");
  return count(seconds, "second");
}

/** Formats an amount in minor units, e.g. `{ amount: 2000, currency: "USD" }` → "$20.00". */
/** Building an Intl.NumberFormat costs far more than using one: one per currency, kept. */
const currencyFormats = new Map<string, { format: Intl.NumberFormat; digits: number } | null>();

function currencyFormat(currency: string) {
  let entry = currencyFormats.get(currency);
  if (entry === undefined) {
    try {
      const format = new Intl.NumberFormat("en-US", { style: "currency", currency });
      entry = { format, digits: format.resolvedOptions().maximumFractionDigits ?? 2 };
    } catch {
      entry = null;
    }
    // Currency codes come from events: bound what a stream of odd codes can keep.
    if (currencyFormats.size < 500) currencyFormats.set(currency, entry);
  }
  return entry;
}

export function money(value: { amount: number; currency?: string | undefined }): string {
  const currency = value.currency ?? "USD";
  const entry = currencyFormat(currency);
  if (!entry) return `${(value.amount / 100).toFixed(2)} ${currency}`;
  return entry.format.format(value.amount / 10 ** entry.digits);
}

/** " from a to b" or " to b" when the previous value is unknown. */
export function fromTo(from: string | undefined | null, to: string): string {
  return from ? ` from ${from} to ${to}` : ` to ${to}`;
}
