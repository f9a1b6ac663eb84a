import {
  type AuditEvent,
  type FieldIssue,
  formatPath,
  isReservedForApi,
  newId,
  validateEvent,
} from "@auditlog/events";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import { ApiError } from "../errors.ts";
import { addWithinDeadline } from "../queues/add-within-deadline.ts";
import type { Services } from "../services.ts";
import { idempotentEventId } from "./idempotency-key.ts";

export const maxEventsPerBatch = 1000;

type IngestServices = Pick<Services, "jobs" | "redis" | "env" | "logger">;

/**
 * Accepts a request body (one event, or `{ "events": [ … ] }`) for an organisation: validates
 * every event, gives each its id and time, and queues them as one job. Either every event is
 * queued and their ids are returned, or nothing is: 403 naming each event of a type only the API
 * records, 400 naming each bad field of each bad event, 503 when the queue cannot take the job.
 * With an `idempotencyKey`, the ids of events sent without one are derived from it, so a retry
 * of a request answered 503 (whose job may have reached Redis after all) stores nothing twice.
 */
export async function acceptEvents(
  services: IngestServices,
  input: { orgId: string; body: unknown; requestId: string; idempotencyKey?: string | undefined },
): Promise<string[]> {
  const { idempotencyKey } = input;
  const { events, prefix } = splitBody(input.body);
  const issues: FieldIssue[] = [];
  const reserved: FieldIssue[] = [];
  const receivedAt = new Date();
  const receivedAtText = receivedAt.toISOString();
  const accepted: AuditEvent[] = [];
  events.forEach((candidate, index) => {
    const type = (candidate as { type?: unknown } | null)?.type;
    if (typeof type === "string" && isReservedForApi(type)) {
      reserved.push({
        path: formatPath(["type"], prefix(index)),
        message: `${type} is recorded by the API itself, never posted with an ingestion key`,
      });
      return;
    }
    const validation = validateEvent(candidate, prefix(index), receivedAt);
    if (!validation.ok) {
      issues.push(...validation.issues);
      return;
    }
    // The job carries the event as validated, plus the id and time the API assigns, so the
    // worker stores exactly what was acknowledged. The parsed event is the API's own object.
    const event = validation.event;
    event.id ??=
      idempotencyKey === undefined
        ? newId("evt", receivedAt)
        : idempotentEventId({ orgId: input.orgId, key: idempotencyKey, index, event });
    event.occurredAt ??= receivedAtText;
    accepted.push(event);
  });
  if (reserved.length > 0) {
    // Forging an admin's action on the log is refused as such, whatever else the batch holds.
    throw new ApiError(
      "forbidden",
      "events of the audit log's own types (org.audit_log.*) are recorded by the API; nothing was accepted",
      reserved.slice(0, 200),
    );
  }
  if (issues.length > 0) {
    const failing = new Set(issues.map((i) => i.path.match(/^events\[(\d+)\]/)?.[1] ?? "0"));
    throw new ApiError(
      "validation_failed",
      `${failing.size} of ${events.length} event(s) are invalid; nothing was accepted`,
      issues.slice(0, 200),
    );
  }
  try {
    await enqueueIngestBatch(services, {
      orgId: input.orgId,
      receivedAt: receivedAtText,
      catalog: catalogFingerprint,
      events: accepted,
    });
  } catch (error) {
    services.logger.warn("ingest queue unavailable", {
      requestId: input.requestId,
      error: (error as Error).message,
    });
    // Redis answers within the command timeout or not at all: a second is a fair first wait,
    // and clients that honour Retry-After (packages/client) do not hammer a recovering Redis.
    throw new ApiError(
      "service_unavailable",
      "the ingest queue is unavailable; nothing was accepted, retry later",
      undefined,
      { "Retry-After": "1" },
    );
  }
  return accepted.map((event) => event.id as string);
}

/** Queues one batch as one job, failing within REDIS_COMMAND_TIMEOUT_MS when Redis is away. */
export function enqueueIngestBatch(services: IngestServices, job: IngestBatchJob): Promise<void> {
  return addWithinDeadline(services.redis, services.env.REDIS_COMMAND_TIMEOUT_MS, () =>
    services.jobs.ingest.add("ingest.batch", job),
  );
}

function splitBody(body: unknown): { events: unknown[]; prefix: (index: number) => string } {
  if (typeof body !== "object" || body === null || Array.isArray(body)) {
    throw new ApiError("bad_request", 'body must be one event object or { "events": [ … ] }', [
      { path: "", message: "expected an object" },
    ]);
  }
  if (!("events" in body)) return { events: [body], prefix: () => "" };
  const { events, ...rest } = body as { events: unknown };
  const extra = Object.keys(rest);
  if (extra.length > 0) {
    throw new ApiError("bad_request", "a batch holds only an events array", [
      { path: extra[0] ?? "", message: "unknown field" },
    ]);
  }
  if (!Array.isArray(events) || events.length === 0 || events.length > maxEventsPerBatch) {
    throw new ApiError(
      "bad_request",
      `events must be an array of 1 to ${maxEventsPerBatch} events`,
      [{ path: "events", message: `expected 1 to ${maxEventsPerBatch} events` }],
    );
  }
  return { events, prefix: (index) => `events[${index}]` };
}
