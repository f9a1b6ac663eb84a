import { z } from "zod";
import { categorySchema } from "./envelope.ts";

/**
 * A stored entry as the query API returns it and the console renders it. The IP is the
 * anonymised one; the full address was never stored.
 */
export const auditEntrySchema = z.object({
  id: z.string(),
  type: z.string(),
  category: categorySchema,
  description: z.string(),
  occurredAt: z.iso.datetime(),
  receivedAt: z.iso.datetime(),
  hiddenByDefault: z.boolean(),
  actor: z.object({
    type: z.enum(["user", "token", "system"]),
    id: z.string(),
    name: z.string(),
    avatarUrl: z.string().nullable(),
    tokenRole: z.string().nullable(),
    tokenLast4: z.string().nullable(),
  }),
  target: z.object({ type: z.string(), id: z.string(), name: z.string().nullable() }).nullable(),
  ip: z.string().nullable(),
  location: z
    .object({
      formatted: z.string(),
      countryCode: z.string().nullable(),
      region: z.string().nullable(),
      city: z.string().nullable(),
    })
    .nullable(),
  userAgent: z.string().nullable(),
  oauth: z.object({ clientId: z.string(), name: z.string().nullable() }).nullable(),
  data: z.record(z.string(), z.unknown()),
  /** The entry's place in its organisation's log: 1, 2, 3 … in commit order, gap-free. */
  seq: z.number().int().positive(),
  /**
   * The salt of the entry's personal digest in its Merkle leaf (16 bytes, base64): with it and
   * the personal fields, anyone can recompute the leaf (README, "Verifying the log"). Once the
   * entry's personal fields were erased (issue 16): no salt, and `personal`, the digest they had
   * (32 bytes, base64), which the leaf takes as it is.
   */
  commitment: z.union([
    z.object({ salt: z.base64(), personal: z.undefined().optional() }),
    z.object({ personal: z.base64(), salt: z.undefined().optional() }),
  ]),
});
export type AuditEntry = z.infer<typeof auditEntrySchema>;

export const auditEntryPageSchema = z.object({
  entries: z.array(auditEntrySchema),
  /** Pass as `cursor` to get the next (older) page; null on the last page. */
  nextCursor: z.string().nullable(),
});
export type AuditEntryPage = z.infer<typeof auditEntryPageSchema>;

/** "City, Region, CC" from whatever parts are known. */
export function formatLocation(parts: {
  countryCode: string | null;
  region: string | null;
  city: string | null;
}): string {
  return [parts.city, parts.region, parts.countryCode].filter(Boolean).join(", ");
}
