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
