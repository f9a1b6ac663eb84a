import type { AuditEntryRow, DeadLetterRow } from "@auditlog/db";
import {
  type AuditEvent,
  categoryOf,
  describeEvent,
  eventIdSchema,
  getEventDefinition,
  isEventType,
  validateEvent,
  withTruncatedIp,
} from "@auditlog/events";
import { anonymizeIp } from "@auditlog/events/ip";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import type { Geolocator } from "../geo/geolocate.ts";

export interface BuiltBatch {
  entries: AuditEntryRow[];
  /** Where each entry's event is in the job (`entries[i]` is `job.events[positions[i]]`). */
  positions: number[];
  deadLetters: DeadLetterRow[];
}

/**
 * Turns one ingest job into rows: every valid event becomes an entry (geolocated from the full
 * IP, then stored with the truncated one), every invalid one a dead letter with the reasons.
 * Events of a job stamped with this worker's own catalog fingerprint were validated by the API
 * with the same rules, so they are not validated again; any other job's events are.
 */
export function buildEntries(
  job: IngestBatchJob,
  geolocator: Geolocator,
  jobKey: string,
): BuiltBatch {
  const receivedAt = new Date(job.receivedAt);
  const entries: AuditEntryRow[] = [];
  const positions: number[] = [];
  const deadLetters: DeadLetterRow[] = [];

  const validatedByApi = job.catalog === catalogFingerprint;
  job.events.forEach((input, index) => {
    if (validatedByApi && looksValidated(input)) {
      try {
        entries.push(toEntry(job.orgId, input, input.id, receivedAt, job.receivedAt, geolocator));
        positions.push(index);
        return;
      } catch {
        // Not what the API writes after all: validate it like any other.
      }
    }
    const validation = validateEvent(input, `events[${index}]`, receivedAt);
    if (!validation.ok) {
      deadLetters.push(
        toDeadLetter(job.orgId, input, receivedAt, `${jobKey}:${index}`, validation.issues),
      );
      return;
    }
    const event = validation.event;
    const id = event.id;
    if (!id) {
      const issues = [{ path: `events[${index}].id`, message: "missing (the API assigns one)" }];
      deadLetters.push(toDeadLetter(job.orgId, input, receivedAt, `${jobKey}:${index}`, issues));
      return;
    }
    try {
      entries.push(toEntry(job.orgId, event, id, receivedAt, job.receivedAt, geolocator));
      positions.push(index);
    } catch (error) {
      const issues = [{ path: `events[${index}]`, message: (error as Error).message }];
      deadLetters.push(toDeadLetter(job.orgId, input, receivedAt, `${jobKey}:${index}`, issues));
    }
  });
  return { entries, positions, deadLetters };
}

/**
 * The dead letter of an event whose row PostgreSQL refused (NUL in a job no API refused it from,
 * a value out of a column's range): kept with PostgreSQL's reason, like an invalid event.
 */
export function refusedEntryDeadLetter(
  job: IngestBatchJob,
  position: number,
  reason: string,
  jobKey: string,
): DeadLetterRow {
  const issues = [{ path: `events[${position}]`, message: reason }];
  return {
    ...toDeadLetter(
      job.orgId,
      job.events[position],
      new Date(job.receivedAt),
      `${jobKey}:${position}`,
      issues,
    ),
    reason: reason.slice(0, 2000),
  };
}

/** The shape the API writes into a job: a cheap check, in case a job came from elsewhere. */
function looksValidated(input: unknown): input is AuditEvent & { id: string } {
  return (
    isRecord(input) &&
    typeof input.type === "string" &&
    isEventType(input.type) &&
    typeof input.id === "string" &&
    input.id !== "" &&
    isRecord(input.actor) &&
    isRecord(input.data)
  );
}

function toEntry(
  orgId: string,
  event: AuditEvent,
  id: string,
  receivedAt: Date,
  receivedAtText: string,
  geolocator: Geolocator,
): AuditEntryRow {
  // The API gives an event sent without a time the job's own receivedAt text: no second parse.
  const occurredAt =
    !event.occurredAt || event.occurredAt === receivedAtText
      ? receivedAt
      : new Date(event.occurredAt);
  // A validated event always passes these; one that does not would fail the whole write later.
  if (Number.isNaN(occurredAt.getTime())) throw new RangeError("occurredAt is not a time");
  const fullIp = event.context?.ip;
  const ip = fullIp ? anonymizeIp(fullIp) : null;
  if (fullIp && !ip) throw new RangeError("context.ip is not an address");
  const location = fullIp ? geolocator.locate(fullIp) : null;
  return {
    orgId,
    id,
    type: event.type,
    category: categoryOf(event.type),
    hiddenByDefault: getEventDefinition(event.type)?.hiddenByDefault ?? false,
    occurredAt,
    receivedAt,
    actorType: event.actor.type,
    actorId: event.actor.id,
    actorName: event.actor.name,
    actorAvatarUrl: event.actor.avatarUrl ?? null,
    actorTokenRole: event.actor.tokenRole ?? null,
    actorTokenLast4: event.actor.tokenLast4 ?? null,
    targetType: event.target?.type ?? null,
    targetId: event.target?.id ?? null,
    targetName: event.target?.name ?? null,
    description: describeEvent(event),
    ip,
    countryCode: location?.countryCode ?? null,
    region: location?.region ?? null,
    city: location?.city ?? null,
    userAgent: event.context?.userAgent ?? null,
    oauthClientId: event.context?.oauth?.clientId ?? null,
    oauthName: event.context?.oauth?.name ?? null,
    data: event.data,
  };
}

function toDeadLetter(
  orgId: string,
  input: unknown,
  receivedAt: Date,
  fallbackKey: string,
  issues: { path: string; message: string }[],
): DeadLetterRow {
  const record = isRecord(input) ? input : {};
  const id = eventIdSchema.safeParse(record.id);
  return {
    orgId,
    dedupeKey: id.success ? `evt:${id.data}` : fallbackKey,
    eventId: id.success ? id.data : null,
    eventType: typeof record.type === "string" ? record.type.slice(0, 200) : null,
    reason: `invalid event: ${issues.map((i) => `${i.path} ${i.message}`).join("; ")}`.slice(
      0,
      2000,
    ),
    issues,
    payload: withoutFullIp(input),
    receivedAt,
  };
}

/** A refused event is kept for inspection, but its address only in truncated form. */
export function withoutFullIp(input: unknown): unknown {
  return withTruncatedIp(input);
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
