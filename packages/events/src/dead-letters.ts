import { z } from "zod";
import { anonymizeIp } from "./ip/anonymize-ip.ts";

/**
 * Dead letters (issue 18): events the worker refused (invalid under its catalog, without an id,
 * or a row PostgreSQL would not take), kept with the reason. Admins read them with
 * `GET /v1/orgs/:org/dead-letters` and in the console; operators replay them with the CLI.
 */

/** Largest page of `GET /v1/orgs/:org/dead-letters` (`?limit=`), and the page without one. */
export const MAX_DEAD_LETTERS_PAGE = 100;
export const DEFAULT_DEAD_LETTERS_PAGE = 50;

/**
 * A dead letter's id as the API and the CLI write it: the table's bigint identity in decimal,
 * which is also the `before` cursor (pages go from newer to older ids).
 */
export const deadLetterIdSchema = z
  .string()
  .regex(/^[1-9][0-9]{0,18}$/, "must be a dead letter id (decimal digits)")
  // Only once it is digits: BigInt of anything else throws instead of failing the check.
  .refine(
    (text) => !/^[0-9]+$/.test(text) || BigInt(text) <= 9_223_372_036_854_775_807n,
    "is out of range",
  );

export const deadLetterIssueSchema = z.object({
  /** The failing field within the event (`data.repo.name`); "" when it is the event as a whole. */
  path: z.string(),
  message: z.string(),
});
export type DeadLetterIssue = z.infer<typeof deadLetterIssueSchema>;

export const deadLetterSchema = z.object({
  id: deadLetterIdSchema,
  /** The event's own id when it had a valid one. */
  eventId: z.string().nullable(),
  eventType: z.string().nullable(),
  reason: z.string(),
  issues: z.array(deadLetterIssueSchema),
  /**
   * The refused event as it came, with `context.ip` truncated (IPv4 /24, IPv6 /48; "[removed]"
   * when it was not an address). For a malformed job, the array of its events, each so.
   */
  event: z.unknown(),
  /** When the API accepted the event. */
  receivedAt: z.iso.datetime(),
  /** When the worker refused it. */
  createdAt: z.iso.datetime(),
  /** When an operator queued it again (`auditlog dead-letters replay`); null until then. */
  replayedAt: z.iso.datetime().nullable(),
  /** The id the replayed event is stored under. */
  replayedEventId: z.string().nullable(),
});
export type DeadLetter = z.infer<typeof deadLetterSchema>;

export const deadLetterPageSchema = z.object({
  /** Newest first. */
  deadLetters: z.array(deadLetterSchema),
  /** The `before` of the next (older) page; null on the last one. */
  nextBefore: deadLetterIdSchema.nullable(),
});
export type DeadLetterPage = z.infer<typeof deadLetterPageSchema>;

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/**
 * A refused event with only the truncated form of its client address: the one rule for what a
 * dead letter may hold (the worker applies it when storing, the API again when answering, so a
 * row written by any older worker never shows a full address). Truncating twice changes nothing.
 */
export function withTruncatedIp(input: unknown): unknown {
  if (Array.isArray(input)) return input.map(withTruncatedIp);
  if (!isRecord(input) || !isRecord(input.context) || !("ip" in input.context)) return input;
  const ip = input.context.ip;
  const truncated = typeof ip === "string" ? anonymizeIp(ip) : null;
  return { ...input, context: { ...input.context, ip: truncated ?? "[removed]" } };
}

/**
 * An issue's path within the event: the worker validates events of a job as `events[i]`, a
 * position that means nothing to whoever reads one dead letter.
 */
export function pathWithinEvent(path: string): string {
  return path.replace(/^events\[\d+\]\.?/, "");
}

/** Stored issues as the answer gives them (anything else a stored row may hold is dropped). */
export function deadLetterIssues(stored: unknown): DeadLetterIssue[] {
  if (!Array.isArray(stored)) return [];
  return stored.flatMap((issue) =>
    isRecord(issue) && typeof issue.message === "string"
      ? [
          {
            path: typeof issue.path === "string" ? pathWithinEvent(issue.path) : "",
            message: issue.message,
          },
        ]
      : [],
  );
}
