import { z } from "zod";
import { auditEventSchema } from "../catalog/index.ts";

/**
 * Bump when a rule the JSON Schema below cannot express changes (a `.refine`, a describe-time
 * assumption, a rule of `validateEvent`), so that workers stop trusting jobs validated under the
 * old rule. 2: no NUL in any string, the depth and size of an event, the window of `occurredAt`,
 * https avatars on public hosts. 3: no key `__proto__`.
 */
const catalogRulesRevision = 3;

/** FNV-1a, twice with different offsets: a version tag, not a security measure. */
function fingerprint(text: string): string {
  let a = 0x811c9dc5;
  let b = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    a = Math.imul(a ^ code, 0x01000193) >>> 0;
    b = Math.imul(b ^ code, 0x01000193) >>> 0;
  }
  return a.toString(16).padStart(8, "0") + b.toString(16).padStart(8, "0");
}

/**
 * Identifies the event catalog's rules: every type, field, length, pattern and format, from the
 * catalog's JSON Schema. The API stamps each ingest job with the fingerprint it validated the
 * events with; a worker whose catalog has the same fingerprint does not validate them again
 * (about a sixth of its time per event), and one with another catalog (a deployment rolling
 * out) validates every event itself.
 */
export const catalogFingerprint = fingerprintCatalog(auditEventSchema);

export function fingerprintCatalog(schema: z.ZodType): string {
  const jsonSchema = z.toJSONSchema(schema, { unrepresentable: "any", io: "input" });
  return fingerprint(`${catalogRulesRevision}:${JSON.stringify(jsonSchema)}`);
}

export const ingestBatchJobSchema = z.strictObject({
  orgId: z.string().min(1),
  receivedAt: z.iso.datetime(),
  /**
   * The `catalogFingerprint` of the API that validated `events` (and wrote them in their parsed
   * form). Absent or different: the worker validates every event, and refuses invalid ones.
   */
  catalog: z.string().max(64).optional(),
  events: z.array(z.unknown()).min(1).max(1000),
});
export type IngestBatchJob = z.infer<typeof ingestBatchJobSchema>;
