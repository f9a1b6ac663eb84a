import { z } from "zod";

/**
 * The categories of PRODUCT.md §3. The console colours badges by category and the query API
 * filters by it, so the list is closed.
 */
export const categories = [
  "organization",
  "membership",
  "content",
  "billing",
  "resource_group",
  "jobs",
  "audit_log",
] as const;
export const categorySchema = z.enum(categories);
export type Category = z.infer<typeof categorySchema>;

export const categoryLabels: Record<Category, string> = {
  organization: "Organisation & security",
  membership: "Membership & access",
  content: "Content & resources",
  billing: "Billing & cloud",
  resource_group: "Resource groups",
  jobs: "Jobs",
  audit_log: "Audit log",
};

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
  avatarUrl: z.url().max(2000).optional(),
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

/** Everything an event holds except its type-specific `data`. */
export const envelopeShape = {
  id: eventIdSchema.optional(),
  occurredAt: z.iso.datetime({ offset: true }).optional(),
  actor: actorSchema,
  target: targetSchema.optional(),
  context: contextSchema.optional(),
};
