import { createHash } from "node:crypto";
import type { AuditEvent } from "@auditlog/events";
import { anonymizeIp } from "@auditlog/events/ip";
import { ApiError } from "../errors.ts";

export const idempotencyKeyHeader = "Idempotency-Key";

/**
 * Visible ASCII except `"` and `\`: what any client's key (a UUID, a hash, a request id) is made
 * of, and nothing that needs escaping in a log line or a structured-field string.
 */
const keyPattern = /^[\x21\x23-\x5b\x5d-\x7e]{1,255}$/;

/**
 * The request's `Idempotency-Key` (draft-ietf-httpapi-idempotency-key-header): a
 * structured-field string (`"…"`, as the draft writes it) or the same characters bare, as most
 * clients send them; both name the same key. Undefined without the header; a 400 naming the
 * header for anything else.
 */
export function parseIdempotencyKey(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const quoted = /^"(.*)"$/s.exec(value);
  const key = quoted ? quoted[1] : value;
  if (key === undefined || !keyPattern.test(key)) {
    throw new ApiError(
      "bad_request",
      `${idempotencyKeyHeader} must be 1 to 255 visible ASCII characters, without spaces, quotes or backslashes`,
      [{ path: idempotencyKeyHeader, message: "expected 1 to 255 visible ASCII characters" }],
    );
  }
  return key;
}

/**
 * The id of an event sent without one in a request with an Idempotency-Key: the same
 * organisation, key, position and event give the same id, so a retried request answers the same
 * ids and the worker's `(org_id, id)` key stores its events once.
 *
 * The event's content is part of it: a key reused for different events gives them other ids and
 * they are stored, instead of being acknowledged and then dropped as repeats (a server keeping
 * no state per key cannot answer the draft's 422). The address enters only truncated, as it is
 * stored: the id is exported, and a hash of the full address behind a guessable key would give
 * the last octet away to anyone trying 256 candidates.
 */
export function idempotentEventId(input: {
  orgId: string;
  key: string;
  index: number;
  event: AuditEvent;
}): string {
  const { context } = input.event;
  const stored = context?.ip ? { ...context, ip: anonymizeIp(context.ip) ?? "" } : context;
  const content = canonicalJson({ ...input.event, context: stored });
  const digest = createHash("sha256")
    .update(JSON.stringify([input.orgId, input.key, input.index, content]))
    .digest("hex");
  return `evt_${digest.slice(0, 24)}`;
}

/** JSON with every object's keys sorted: the same event whatever order its sender wrote. */
function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) {
    return `[${value.map((item) => canonicalJson(item ?? null)).join(",")}]`;
  }
  if (value !== null && typeof value === "object") {
    const fields = Object.entries(value)
      .filter(([, field]) => field !== undefined)
      .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
      .map(([name, field]) => `${JSON.stringify(name)}:${canonicalJson(field)}`);
    return `{${fields.join(",")}}`;
  }
  return JSON.stringify(value) ?? "null";
}
