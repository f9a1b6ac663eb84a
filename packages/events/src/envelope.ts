import { z } from "zod";
import { categories } from "./categories.ts";
import { publicHttpsUrlProblem } from "./public-url.ts";

export { type Category, categories, categoryLabels } from "./categories.ts";

export const categorySchema = z.enum(categories);

/**
 * Client-supplied event ids are idempotency keys, so they are restricted to a conservative
 * alphabet: they appear in URLs, file names and CSV cells.
 */
export const eventIdSchema = z
  .string()
  .min(1)
  .max(128)
  .regex(/^[A-Za-z0-9_.:-]+$/, "must contain only letters, digits, '_', '.', ':' and '-'");

export const actorSchema = z.strictObject({
  type: z.enum(["user", "token", "system"]),
  id: z.string().min(1).max(200),
  name: z.string().min(1).max(200),
  /** Every admin's browser loads it: https on a public host name only (see publicHttpsUrlProblem). */
  avatarUrl: z
    .string()
    .max(2000)
    .superRefine((url, context) => {
      const problem = publicHttpsUrlProblem(url);
      if (problem) context.addIssue({ code: "custom", message: problem, input: url });
    })
    .optional(),
  /** For token actors: what the token may do, as the Hub reports it. */
  tokenRole: z.enum(["read", "write", "fineGrained"]).optional(),
  /** For token actors: the last four characters, never the token itself. */
  tokenLast4: z.string().length(4).optional(),
});
export type Actor = z.infer<typeof actorSchema>;

export const targetSchema = z.strictObject({
  type: z.string().min(1).max(64),
  id: z.string().min(1).max(300),
  name: z.string().min(1).max(300).optional(),
});
export type Target = z.infer<typeof targetSchema>;

export const contextSchema = z.strictObject({
  /** The full address: the worker geolocates from it, then keeps only the truncated form. */
  ip: z.union([z.ipv4(), z.ipv6()], { error: "must be an IPv4 or IPv6 address" }).optional(),
  userAgent: z.string().max(1000).optional(),
  oauth: z
    .strictObject({ clientId: z.string().min(1).max(200), name: z.string().max(200).optional() })
    .optional(),
});
export type EventContext = z.infer<typeof contextSchema>;

/**
 * How far after the API received it an event may say it happened: clocks drift and producers
 * queue, but a time further ahead would pin the event to the top of the newest-first log.
 */
export const maxOccurredAtLeadMs = 24 * 3600 * 1000;

/**
 * The earliest time an event may say it happened. Backfills of old logs are welcome, but a time
 * before 1970 is a zero or negative timestamp gone wrong, and PostgreSQL refuses year 0, which
 * the ISO format allows.
 */
export const earliestOccurredAt = "1970-01-01T00:00:00Z";
const earliestOccurredAtMs = Date.parse(earliestOccurredAt);

/** Why `occurredAt` is out of the window an event may claim, or undefined when it is within. */
export function occurredAtProblem(occurredAt: string, receivedAt: Date): string | undefined {
  const time = Date.parse(occurredAt);
  if (time > receivedAt.getTime() + maxOccurredAtLeadMs) {
    return "must not be more than one day after the time the API received the event";
  }
  if (time < earliestOccurredAtMs) return `must not be before ${earliestOccurredAt}`;
  return undefined;
}

/** Everything an event holds except its type-specific `data`. */
export const envelopeShape = {
  id: eventIdSchema.optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  actor: actorSchema,
  target: targetSchema.optional(),
  context: contextSchema.optional(),
};
