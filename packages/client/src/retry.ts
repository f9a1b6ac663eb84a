/**
 * When to try a batch again. Exponential backoff with full jitter (a fleet of clients that failed
 * together does not come back together), and never sooner than the server's `Retry-After`.
 */
export interface BackoffOptions {
  /** The first retry's ceiling; it doubles with every attempt. */
  initialDelayMs: number;
  /** The ceiling of any backoff (not of a Retry-After, which is honoured as given). */
  maxDelayMs: number;
}

/** Retry-After longer than this is taken as this: a wrong header must not park a batch for days. */
export const maxRetryAfterMs = 3_600_000;

/**
 * `Retry-After` in milliseconds: delta-seconds (`"1"`) or an HTTP date; undefined when absent or
 * unreadable (then the backoff alone decides).
 */
export function parseRetryAfter(value: string | null, now = Date.now()): number | undefined {
  if (value === null) return undefined;
  const trimmed = value.trim();
  if (/^\d+$/.test(trimmed)) return Math.min(Number(trimmed) * 1000, maxRetryAfterMs);
  // An HTTP date starts with the day's name; `Date.parse` alone reads "-1" as a year.
  if (!/^[A-Za-z]{3},/.test(trimmed)) return undefined;
  const date = Date.parse(trimmed);
  if (Number.isNaN(date)) return undefined;
  return Math.min(Math.max(0, date - now), maxRetryAfterMs);
}

/** The wait before attempt `attempt + 1`, `attempt` counting from 1. */
export function retryDelay(
  attempt: number,
  options: BackoffOptions,
  retryAfterMs: number | undefined,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(options.maxDelayMs, options.initialDelayMs * 2 ** (attempt - 1));
  const backoff = random() * ceiling;
  if (retryAfterMs === undefined) return Math.round(backoff);
  // At least what the server asked; a little spread on top so clients told the same second do
  // not all come back in it.
  const spread = random() * Math.min(250, retryAfterMs * 0.2);
  return Math.round(Math.max(retryAfterMs, backoff) + spread);
}
