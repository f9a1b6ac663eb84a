import { type AuditEventInput, validateEvent } from "@auditlog/events";
import { catalogFingerprint, type JobProducer } from "@auditlog/events/jobs";

/** The actor of what the worker does on its own (the lifecycle job). */
export const lifecycleActor = {
  type: "system",
  id: "auditlog-lifecycle",
  name: "auditlog retention",
} as const;

/**
 * Records an action the worker itself performed in the organisation's own log, through the same
 * pipeline as every other event (the ingest queue), as the API's `recordApiAction` does. `id`
 * makes the entry idempotent: a retried recording stores it once.
 */
export async function recordWorkerAction(
  ingest: JobProducer<"ingest">,
  input: {
    orgId: string;
    id: string;
    at: Date;
    event: Pick<AuditEventInput, "type" | "data" | "target">;
  },
): Promise<void> {
  const at = input.at.toISOString();
  const validation = validateEvent(
    { ...input.event, id: input.id, occurredAt: at, actor: lifecycleActor },
    "",
    input.at,
  );
  if (!validation.ok) {
    throw new Error(`internal event ${input.event.type} is invalid: ${validation.issues[0]?.path}`);
  }
  await ingest.add("ingest.batch", {
    orgId: input.orgId,
    receivedAt: at,
    catalog: catalogFingerprint,
    events: [validation.event],
  });
}
