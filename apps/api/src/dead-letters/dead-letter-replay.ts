import { createHash } from "node:crypto";
import { type DeadLetterRecord, deadLettersToReplay, markDeadLetterReplayed } from "@auditlog/db";
import { type AuditEvent, type FieldIssue, validateEvent } from "@auditlog/events";
import { catalogFingerprint } from "@auditlog/events/jobs";
import { enqueueIngestBatch } from "../ingest/ingest-service.ts";
import type { Services } from "../services.ts";

/** Events per queued job: a replay's jobs stay as small as the API's usual ones. */
const eventsPerJob = 100;
/** Dead letters read at a time when replaying all of an organisation's. */
const page = 500;

export type ReplayOutcome =
  /** Queued again under `eventId`; the dead letter is marked. */
  | { id: string; status: "replayed"; eventId: string }
  /** Marked by a replay running at the same time: queued by both, stored once (by its id). */
  | { id: string; status: "raced"; eventId: string }
  /** Replayed before (only when asked for by id): nothing queued. */
  | { id: string; status: "already_replayed"; eventId: string | null }
  /** Still refused by this catalog: left as it is, with why. */
  | { id: string; status: "still_invalid"; reason: string; issues: FieldIssue[] }
  /** Not one of the organisation's dead letters (asked for by id). */
  | { id: string; status: "not_found" };

type ReplayServices = Pick<Services, "db" | "jobs" | "redis" | "env" | "logger">;

/**
 * The id a replayed event is stored under when it had none (a job from a producer that gave
 * none): derived from the organisation and the dead letter's own key, so every replay of it,
 * repeated or raced, queues the same id and the `(org_id, id)` key stores it once.
 */
export function replayEventId(orgId: string, dedupeKey: string): string {
  const digest = createHash("sha256")
    .update(JSON.stringify(["dead-letter-replay", orgId, dedupeKey]))
    .digest("hex");
  return `evt_${digest.slice(0, 24)}`;
}

/** The event to queue again, or why this catalog still refuses it. */
function prepare(
  letter: DeadLetterRecord,
): { ok: true; event: AuditEvent & { id: string } } | { ok: false; issues: FieldIssue[] } {
  if (Array.isArray(letter.payload)) {
    // A malformed job's dead letter holds the job's events, of an organisation it may not even
    // name: nothing here says they belong to this one, so they are not replayed one by one.
    return {
      ok: false,
      issues: [{ path: "", message: "holds a whole malformed job, not one event" }],
    };
  }
  // Against the time the API first accepted it: a replay days later must not refuse an event
  // whose `occurredAt` was within the window then.
  const validation = validateEvent(letter.payload, "", letter.receivedAt);
  if (!validation.ok) return { ok: false, issues: validation.issues };
  const event = validation.event;
  const id = event.id ?? replayEventId(letter.orgId, letter.dedupeKey);
  // As the API does for an event sent without a time: when it was received.
  return {
    ok: true,
    event: { ...event, id, occurredAt: event.occurredAt ?? letter.receivedAt.toISOString() },
  };
}

/**
 * Queues an organisation's dead letters again (those with `ids`, else every one not yet
 * replayed), each validated with this process's catalog first: an event it accepts is queued
 * as the API queues one (stamped with this catalog, its id kept or derived, its original
 * `receivedAt`), then its dead letter is marked; one it still refuses is left, with why.
 *
 * Queue first, mark second: a replay that stops between the two is replayed again, harmlessly,
 * as the entries' `(org_id, id)` key stores an event once however often it is queued. The
 * address a dead letter holds is already truncated, so a replayed entry is geolocated from the
 * truncated address (the same /24 or /48; usually the same city).
 */
export async function replayDeadLetters(
  services: ReplayServices,
  input: { orgId: string; ids?: readonly string[] },
): Promise<ReplayOutcome[]> {
  const outcomes: ReplayOutcome[] = [];
  const { orgId, ids } = input;
  let after: string | undefined;
  for (;;) {
    const letters = await deadLettersToReplay(services.db, {
      orgId,
      limit: ids ? ids.length : page,
      ...(ids ? { ids } : after ? { after } : {}),
    });
    const queued = await replayPage(services, orgId, letters, outcomes);
    for (const { letter, eventId } of queued) {
      const marked = await markDeadLetterReplayed(services.db, { orgId, id: letter.id, eventId });
      outcomes.push({ id: letter.id, status: marked ? "replayed" : "raced", eventId });
    }
    if (ids) {
      const found = new Set(letters.map((letter) => letter.id));
      for (const id of ids) if (!found.has(id)) outcomes.push({ id, status: "not_found" });
      break;
    }
    if (letters.length < page) break;
    after = letters.at(-1)?.id;
  }
  return outcomes.sort((a, b) => (BigInt(a.id) < BigInt(b.id) ? -1 : 1));
}

/** Queues the replayable letters of one page, in jobs of one `receivedAt` each. */
async function replayPage(
  services: ReplayServices,
  orgId: string,
  letters: readonly DeadLetterRecord[],
  outcomes: ReplayOutcome[],
): Promise<{ letter: DeadLetterRecord; eventId: string }[]> {
  const groups = new Map<
    string,
    { letter: DeadLetterRecord; event: AuditEvent & { id: string } }[]
  >();
  for (const letter of letters) {
    if (letter.replayedAt) {
      outcomes.push({ id: letter.id, status: "already_replayed", eventId: letter.replayedEventId });
      continue;
    }
    const prepared = prepare(letter);
    if (!prepared.ok) {
      const reason = prepared.issues.map((i) => `${i.path || "event"} ${i.message}`).join("; ");
      outcomes.push({ id: letter.id, status: "still_invalid", reason, issues: prepared.issues });
      continue;
    }
    const receivedAt = letter.receivedAt.toISOString();
    const group = groups.get(receivedAt) ?? [];
    group.push({ letter, event: prepared.event });
    groups.set(receivedAt, group);
  }
  const queued: { letter: DeadLetterRecord; eventId: string }[] = [];
  for (const [receivedAt, group] of groups) {
    for (let start = 0; start < group.length; start += eventsPerJob) {
      const chunk = group.slice(start, start + eventsPerJob);
      await enqueueIngestBatch(services, {
        orgId,
        receivedAt,
        catalog: catalogFingerprint,
        events: chunk.map(({ event }) => event),
      });
      queued.push(...chunk.map(({ letter, event }) => ({ letter, eventId: event.id })));
    }
  }
  return queued;
}
