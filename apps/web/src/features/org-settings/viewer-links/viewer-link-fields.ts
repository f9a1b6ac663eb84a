import { ApiRequestError, errorMessage } from "../../../api/client.ts";

/** The expiries offered at creation (the API allows at most 365 days). */
export const expiryChoices = [
  { days: 1, label: "1 day" },
  { days: 7, label: "7 days" },
  { days: 30, label: "30 days" },
  { days: 90, label: "90 days" },
  { days: 365, label: "1 year" },
] as const;

const dayMs = 24 * 60 * 60 * 1000;

/** The link's `expiresAt` for an expiry of `days` from `now`. */
export function expiresAtIn(days: number, now: number): string {
  return new Date(now + days * dayMs).toISOString();
}

/** An address the API answered (absolute with PUBLIC_URL, else a path) made absolute. */
export function absoluteUrl(address: string, origin: string): string {
  return new URL(address, origin).href;
}

/** The README's iframe, with the link's address: what a host product pastes. */
export function embedSnippet(src: string): string {
  return [
    "<iframe",
    `  src="${src.replaceAll("&", "&amp;").replaceAll('"', "&quot;")}"`,
    '  title="Audit log"',
    '  width="100%" height="600" style="border:0"',
    '  referrerpolicy="no-referrer"></iframe>',
  ].join("\n");
}

/**
 * The API's refusal by field (`q`, `name`, `expiresAt`, `frameOrigins.0` …) and what names no
 * field, so each message is shown at its input.
 */
export function fieldErrors(error: unknown): {
  byField: Record<string, string>;
  other: string | null;
} {
  if (!(error instanceof ApiRequestError) || error.details.length === 0) {
    return { byField: {}, other: error ? errorMessage(error) : null };
  }
  const byField: Record<string, string> = {};
  for (const detail of error.details) byField[detail.path] ??= detail.message;
  return { byField, other: null };
}

/** One origin a line, blank lines and surrounding spaces dropped, as the API takes them. */
export function parseOrigins(text: string): string[] {
  return text
    .split(/[\s,]+/)
    .map((line) => line.trim())
    .filter((line) => line !== "");
}

/** The message for the origins' refusal: `frameOrigins.2` names the third line. */
export function originsError(
  byField: Record<string, string>,
  origins: string[],
): string | undefined {
  for (const [path, message] of Object.entries(byField)) {
    const match = /^frameOrigins(?:\.(\d+))?$/.exec(path);
    if (!match) continue;
    const index = match[1] === undefined ? undefined : Number(match[1]);
    const origin = index === undefined ? undefined : origins[index];
    return origin === undefined ? message : `${origin}: ${message}`;
  }
  return undefined;
}
