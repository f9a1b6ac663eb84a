/** A lone UTF-16 surrogate, as JSON.stringify escapes it, after an even run of backslashes. */
const loneSurrogateEscape = /(?<!\\)((?:\\\\)*)\\u[dD][89a-fA-F][0-9a-fA-F]{2}/g;

/**
 * JSON text PostgreSQL accepts. A JavaScript string may hold a lone surrogate (a request body can
 * carry `"\ud800"`), which JSON.stringify writes as an escape that json and jsonb input refuse,
 * and one such value would fail its whole batch on every retry: accepted events would never be
 * stored. They become U+FFFD, as they would in any UTF-8 text.
 */
export function toPostgresJson(value: unknown): string {
  const text = JSON.stringify(value);
  // JSON.stringify writes paired surrogates as characters, so an escape here is always lone.
  return text.includes("\\u") ? text.replace(loneSurrogateEscape, "$1\\ufffd") : text;
}

/** A NUL as JSON.stringify escapes it, after an even run of backslashes. */
const nulEscape = /(?<!\\)((?:\\\\)*)\\u0000/g;

/**
 * JSON text PostgreSQL accepts whatever the value holds: `toPostgresJson`, and NUL (which jsonb
 * refuses) as U+FFFD too. Only for what must be kept at any cost, such as a refused event in the
 * dead letters; an entry holding NUL is refused instead, not silently altered.
 */
export function toPostgresJsonReplacingNul(value: unknown): string {
  const text = toPostgresJson(value);
  return text.includes("\\u0000") ? text.replace(nulEscape, "$1\\ufffd") : text;
}

/** Text PostgreSQL accepts: NUL, which text refuses, as U+FFFD (lone surrogates become U+FFFD anyway as UTF-8). */
export function withoutNul(text: string): string {
  return text.includes("\u0000") ? text.replaceAll("\u0000", "\ufffd") : text;
}
