import type { z } from "zod";
import { type AuditEvent, auditEventSchema } from "./catalog/index.ts";

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

/** Validates one event; issue paths are prefixed (e.g. `events[3]`) so callers can name the event. */
export function validateEvent(input: unknown, prefix = ""): EventValidation {
  const result = auditEventSchema.safeParse(input);
  if (result.success) return { ok: true, event: result.data };
  return { ok: false, issues: toFieldIssues(result.error, prefix) };
}
