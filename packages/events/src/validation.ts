import type { z } from "zod";
import { type AuditEvent, auditEventSchema } from "./catalog/index.ts";
import { occurredAtProblem } from "./envelope.ts";
import { type ContentIssue, eventContentIssues, prototypeKeyIssues } from "./event-content.ts";
import { compileFastCheck } from "./fast-check.ts";

export { compileFastCheck, type FastCheck } from "./fast-check.ts";

/**
 * `auditEventSchema` compiled into plain checks: `true` for a well-formed event (the common
 * case), which zod would return unchanged; anything else goes through zod itself.
 */
export const isWellFormedEvent = compileFastCheck(auditEventSchema);

export interface FieldIssue {
  /** e.g. `events[3].data.role` */
  path: string;
  message: string;
}

export function formatPath(segments: readonly PropertyKey[], prefix = ""): string {
  let path = prefix;
  for (const segment of segments) {
    if (typeof segment === "number") path += `[${segment}]`;
    else path += path === "" ? String(segment) : `.${String(segment)}`;
  }
  return path;
}

export function toFieldIssues(error: z.ZodError, prefix = ""): FieldIssue[] {
  return error.issues.map((issue) => ({
    path: formatPath(issue.path, prefix),
    message: issue.message,
  }));
}

export type EventValidation = { ok: true; event: AuditEvent } | { ok: false; issues: FieldIssue[] };

/**
 * Validates one event: every field against the catalog, then the rules on the event as a whole
 * (no NUL, no key `__proto__`, its depth and size, the time it claims against `receivedAt`, when
 * the API received it). Issue paths are prefixed (e.g. `events[3]`) so callers can name the event. The one entry
 * point for every producer and the worker: `auditEventSchema` alone checks the fields only.
 */
export function validateEvent(
  input: unknown,
  prefix = "",
  receivedAt: Date = new Date(),
): EventValidation {
  // A well-formed event is its own parse result (zod would return an equal copy); zod runs on
  // everything else, so every error message is still zod's.
  const wellFormed = isWellFormedEvent(input);
  if (!wellFormed) {
    // zod's copy would drop these keys, and the event would be stored without them. (A
    // well-formed event has none where zod copies; the content walk finds any deeper.)
    const protoIssues = prototypeKeyIssues(input);
    if (protoIssues.length > 0) return { ok: false, issues: toPrefixed(protoIssues, prefix) };
  }
  const result = wellFormed
    ? { success: true as const, data: input as AuditEvent }
    : auditEventSchema.safeParse(input);
  if (result.success) {
    const issues = wholeEventIssues(result.data, receivedAt);
    if (issues.length === 0) return { ok: true, event: result.data };
    return { ok: false, issues: toPrefixed(issues, prefix) };
  }
  return { ok: false, issues: toFieldIssues(result.error, prefix) };
}

function toPrefixed(issues: ContentIssue[], prefix: string): FieldIssue[] {
  return issues.map((issue) => ({ path: formatPath(issue.path, prefix), message: issue.message }));
}

/**
 * Checked after the fields are valid, outside the zod schema: a refinement on each of the
 * catalog's object schemas cost more than the walk itself on the API's hot path.
 */
function wholeEventIssues(event: AuditEvent, receivedAt: Date): ContentIssue[] {
  const issues = eventContentIssues(event);
  const timeProblem = event.occurredAt && occurredAtProblem(event.occurredAt, receivedAt);
  if (timeProblem) issues.push({ path: ["occurredAt"], message: timeProblem });
  return issues;
}
