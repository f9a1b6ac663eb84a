import { randomBytes } from "node:crypto";
import {
  deleteLogStream,
  findLogStream,
  findStoredLogStream,
  getOrgRetentionSettings,
  insertLogStream,
  type LogStreamChange,
  listLogStreams,
  readLogSize,
  type StoredLogStream,
  secretHint,
  updateLogStream,
} from "@auditlog/db";
import {
  type AuditEntry,
  type CreateStream,
  type LogStream,
  newId,
  parseQuery,
  type StreamDestination,
  type StreamDestinationInput,
  type StreamDestinationType,
  type StreamTestResult,
  streamDestinationInputSchema,
  streamDestinationSchema,
  streamDestinationTypes,
  streamEntryOf,
  streamSecretField,
  type UpdateStream,
} from "@auditlog/events";
import { resolveWebhookTarget } from "@auditlog/events/webhooks";
import { createDestinationSender } from "@auditlog/streams";
import type { z } from "zod";
import { type ApiActor, type ApiClient, recordApiAction } from "../audit-log/record-api-action.ts";
import { ApiError, type ErrorDetail } from "../errors.ts";
import { generateWebhookSecret } from "../notifications/webhook-config.ts";
import type { Services } from "../services.ts";

/** At most this many streams per organisation: each one is a delivery loop the worker runs. */
export const maxStreamsPerOrg = 20;

export type StreamServices = Pick<
  Services,
  "db" | "env" | "jobs" | "redis" | "logger" | "lookupHost" | "secrets"
>;

interface OrgRef {
  id: string;
  slug: string;
  name: string;
}

function invalid(details: ErrorDetail[]): ApiError {
  return new ApiError(
    "validation_failed",
    `invalid request body: ${details.map((detail) => `${detail.path} ${detail.message}`).join("; ")}`,
    details,
  );
}

/** What the organisation's log names as the target of a stream's change. */
function streamTarget(stream: StoredLogStream) {
  return { type: "log_stream", id: stream.id, name: stream.name };
}

const readOptions = (services: Pick<Services, "env">) => ({
  failingAfterSeconds: services.env.STREAM_FAILING_AFTER_SECONDS,
});

export function listStreams(services: Pick<Services, "db" | "env">, org: OrgRef) {
  return listLogStreams(services.db, org.id, readOptions(services));
}

/** One of the organisation's streams; 404 for an unknown id or another organisation's. */
export async function readStream(
  services: Pick<Services, "db" | "env">,
  org: OrgRef,
  id: string,
): Promise<LogStream> {
  const stream = await findLogStream(services.db, { orgId: org.id, id }, readOptions(services));
  if (!stream) throw new ApiError("not_found", "stream not found");
  return stream;
}

/** `q` in the query language; a 400 naming `q` and where the parser stopped. */
function checkQuery(q: string): void {
  if (q.trim() === "") return;
  const parsed = parseQuery(q);
  if (!parsed.ok) {
    throw invalid([
      {
        path: "q",
        message: `${parsed.error.message} at position ${parsed.error.position}`,
        position: parsed.error.position,
        token: parsed.error.token,
      },
    ]);
  }
}

/**
 * The destination's addresses against the webhook rules (https, no credentials, no private or
 * loopback address unless WEBHOOK_ALLOW_LOCAL_URLS): what the worker will check again at every
 * delivery, refused now so the admin sees why. A name that does not resolve yet is accepted,
 * as for webhooks.
 */
async function checkAddresses(
  services: Pick<StreamServices, "env" | "lookupHost">,
  destination: StreamDestination,
): Promise<void> {
  const addresses: [string, string | undefined][] = [
    ["url", "url" in destination ? destination.url : undefined],
    ["endpoint", destination.type === "s3" ? destination.endpoint : undefined],
  ];
  for (const [field, value] of addresses) {
    if (value === undefined) continue;
    const target = await resolveWebhookTarget(
      value.trim(),
      { allowLocal: services.env.WEBHOOK_ALLOW_LOCAL_URLS },
      services.lookupHost,
    );
    if (target.kind === "refused") {
      throw invalid([{ path: `destination.${field}`, message: target.message }]);
    }
  }
}

/** Zod's issues of a destination, named under `destination.`. */
function parseDestination<T>(schema: z.ZodType<T>, value: unknown): T {
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  throw invalid(
    parsed.error.issues.map((issue) => ({
      path: ["destination", ...issue.path].join("."),
      message: issue.message,
    })),
  );
}

/** A destination as given: its settings, and its secret (one is generated for https). */
function splitSecret(input: StreamDestinationInput): {
  settings: StreamDestination;
  secret: string;
  generated: boolean;
} {
  const field = streamSecretField[input.type];
  const { [field as keyof StreamDestinationInput]: given, ...rest } = input;
  const settings = streamDestinationSchema.parse(rest);
  if (typeof given === "string") return { settings, secret: given, generated: false };
  // Only https may leave its secret out: the receiver verifies our signature with it.
  return { settings, secret: generateWebhookSecret(), generated: true };
}

/** Where a stream starts: after the log's current end, or just before a retained `seq`. */
async function startCursor(
  services: Pick<Services, "db">,
  orgId: string,
  start: CreateStream["start"],
): Promise<number> {
  const size = await readLogSize(services.db, orgId);
  if (start === "now") return size;
  const { retainedFrom } = await getOrgRetentionSettings(services.db, orgId);
  if (start.seq < retainedFrom || start.seq > size + 1) {
    throw invalid([
      {
        path: "start.seq",
        message: `must be from ${retainedFrom} (the first retained entry) to ${size + 1} (the next entry)`,
      },
    ]);
  }
  return start.seq - 1;
}

async function record(
  services: StreamServices,
  input: {
    org: OrgRef;
    actor: ApiActor;
    client: ApiClient;
    action: "create" | "update" | "delete";
    stream: StoredLogStream;
    changed?: string[];
  },
): Promise<void> {
  try {
    await recordApiAction(services, {
      orgId: input.org.id,
      actor: input.actor,
      client: input.client,
      event: {
        type: `org.audit_log.stream.${input.action}`,
        target: streamTarget(input.stream),
        data: {
          streamId: input.stream.id,
          name: input.stream.name,
          destinationType: input.stream.destinationType,
          ...(input.changed ? { changed: input.changed } : {}),
        },
      },
    });
  } catch {
    throw new ApiError(
      "service_unavailable",
      "the change could not be recorded in the audit log, so nothing was changed; retry later",
    );
  }
}

export interface CreatedStream {
  stream: LogStream;
  /** An https stream's generated signing secret: answered once, at creation. */
  signingSecret?: string;
}

/**
 * Creates a stream: its query and addresses checked, its secret sealed (the hint kept), its
 * cursor placed, the creation recorded in the organisation's log before it is committed.
 */
export async function createStream(
  services: StreamServices,
  input: { org: OrgRef; body: CreateStream; actor: ApiActor; client: ApiClient },
): Promise<CreatedStream> {
  const { org, body } = input;
  checkQuery(body.q);
  const { settings, secret, generated } = splitSecret(body.destination);
  await checkAddresses(services, settings);
  const deliveredSeq = await startCursor(services, org.id, body.start);
  const inserted = await insertLogStream(
    services.db,
    {
      id: newId("str"),
      orgId: org.id,
      name: body.name,
      destination: settings,
      secretSealed: services.secrets.seal(secret),
      secretHint: secretHint(secret),
      query: body.q,
      deliveredSeq,
      createdBy: `${input.actor.type}:${input.actor.id}`,
      max: maxStreamsPerOrg,
    },
    (stream) => record(services, { ...input, action: "create", stream }),
  );
  if (!inserted.ok) {
    throw new ApiError(
      "conflict",
      `${org.slug} already has ${maxStreamsPerOrg} streams, the most an organisation may have; delete one first`,
      [{ path: "streams", message: `at most ${maxStreamsPerOrg} per organization` }],
    );
  }
  const stream = await readStream(services, org, inserted.stream.id);
  return { stream, ...(generated ? { signingSecret: secret } : {}) };
}

/**
 * The destination of a PATCH: same type (or none given) → merged onto the stored settings, and
 * the stored secret kept unless a new one is given; another type → a whole new destination,
 * its secret required (generated for https).
 */
function changedDestination(
  stored: StoredLogStream,
  patch: Record<string, unknown>,
): { change: NonNullable<LogStreamChange["destination"]>; secret?: string; generated: boolean } {
  const type = patch.type ?? stored.destinationType;
  if (!streamDestinationTypes.includes(type as StreamDestinationType)) {
    throw invalid([
      {
        path: "destination.type",
        message: `must be one of ${streamDestinationTypes.join(", ")}`,
      },
    ]);
  }
  const sameType = type === stored.destinationType;
  const field = streamSecretField[type as StreamDestinationType];
  if (sameType && patch[field] === undefined) {
    const settings = parseDestination(streamDestinationSchema, {
      ...stored.destination,
      ...patch,
      type,
    });
    return {
      change: { settings, secretSealed: stored.secretSealed, secretHint: stored.secretHint },
      generated: false,
    };
  }
  const given = parseDestination(
    streamDestinationInputSchema,
    sameType ? { ...stored.destination, ...patch } : patch,
  );
  const { settings, secret, generated } = splitSecret(given);
  return {
    change: { settings, secretSealed: null, secretHint: secretHint(secret) },
    secret,
    generated,
  };
}

export interface UpdatedStream {
  stream: LogStream;
  /** A generated signing secret (an https destination replacing another type): answered once. */
  signingSecret?: string;
}

/** JSON with sorted keys: a destination read back from jsonb has its keys in another order. */
function canonicalJson(value: object): string {
  return JSON.stringify(
    Object.fromEntries(Object.entries(value).sort(([a], [b]) => a.localeCompare(b))),
  );
}

/** The fields a change touched, as recorded (`secret` when only the secret changed). */
function changedFields(before: StoredLogStream, after: StoredLogStream): string[] {
  const changed: string[] = [];
  if (before.name !== after.name) changed.push("name");
  if (before.query !== after.query) changed.push("q");
  if (before.paused !== after.paused) changed.push("paused");
  if (canonicalJson(before.destination) !== canonicalJson(after.destination)) {
    changed.push("destination");
  }
  if (before.secretSealed !== after.secretSealed) changed.push("secret");
  return changed;
}

/**
 * Changes a stream. The new destination is checked against the stored one (read first, outside
 * the transaction, as checking its address may resolve a name); the change is applied only if
 * that stored destination is still the one in force, and recorded before it is committed.
 */
export async function updateStream(
  services: StreamServices,
  input: { org: OrgRef; id: string; body: UpdateStream; actor: ApiActor; client: ApiClient },
): Promise<UpdatedStream> {
  const { org, body } = input;
  if (body.q !== undefined) checkQuery(body.q);
  const stored = await findStoredLogStream(services.db, { orgId: org.id, id: input.id });
  if (!stored) throw new ApiError("not_found", "stream not found");
  let destination: LogStreamChange["destination"];
  let signingSecret: string | undefined;
  if (body.destination !== undefined) {
    const changed = changedDestination(stored, body.destination);
    await checkAddresses(services, changed.change.settings);
    if (changed.secret !== undefined) {
      changed.change.secretSealed = services.secrets.seal(changed.secret);
      if (changed.generated) signingSecret = changed.secret;
    }
    destination = changed.change;
  }
  const result = await updateLogStream(
    services.db,
    {
      orgId: org.id,
      id: input.id,
      change: { name: body.name, query: body.q, paused: body.paused, destination },
    },
    async (before, after) => {
      if (
        destination &&
        (before.destinationType !== stored.destinationType ||
          before.secretSealed !== stored.secretSealed)
      ) {
        throw new ApiError(
          "conflict",
          "the stream's destination was changed meanwhile; read it again and retry",
        );
      }
      const changed = changedFields(before, after);
      // A change to what is already in force is no change: nothing to record.
      if (changed.length > 0) {
        await record(services, { ...input, action: "update", stream: after, changed });
      }
    },
  );
  if (!result) throw new ApiError("not_found", "stream not found");
  const stream = await readStream(services, org, input.id);
  return { stream, ...(signingSecret ? { signingSecret } : {}) };
}

/** Deletes a stream, recorded in the organisation's log before it is committed. */
export async function deleteStream(
  services: StreamServices,
  input: { org: OrgRef; id: string; actor: ApiActor; client: ApiClient },
): Promise<void> {
  const deleted = await deleteLogStream(
    services.db,
    { orgId: input.org.id, id: input.id },
    (stream) => record(services, { ...input, action: "delete", stream }),
  );
  if (!deleted) throw new ApiError("not_found", "stream not found");
}

/** How long a test send may take: an answer within the request, not a delivery loop's patience. */
const testSendTimeoutMs = 10_000;

/** The one entry of a test batch: made up (no entry of the log leaves), marked as a test. */
function testEntry(org: OrgRef, now: Date): AuditEntry {
  const at = now.toISOString();
  return {
    id: newId("evt"),
    type: "org.audit_log.stream.test",
    category: "audit_log",
    description: `Test message from the audit log of ${org.name}`,
    occurredAt: at,
    receivedAt: at,
    hiddenByDefault: true,
    actor: {
      type: "system",
      id: "auditlog",
      name: "auditlog",
      avatarUrl: null,
      tokenRole: null,
      tokenLast4: null,
    },
    target: { type: "organization", id: org.slug, name: org.name },
    ip: null,
    location: null,
    userAgent: null,
    oauth: null,
    data: { test: true },
    // A test batch is marked (`test: true`) and gets its own message id: its seq never hides
    // or duplicates a real entry's at the receiver.
    seq: 1,
    commitment: { salt: randomBytes(16).toString("base64") },
  };
}

/**
 * Sends one test batch to a stream's destination now, with its stored secret, and answers what
 * the receiver said. Nothing of the stream changes (its cursor, its failures): a test is not a
 * delivery. The receiver's answer is reduced to a status and a short reason, never a secret.
 */
export async function testStream(
  services: Pick<Services, "db" | "env" | "lookupHost" | "secrets">,
  input: { org: OrgRef; id: string },
): Promise<StreamTestResult> {
  const stored = await findStoredLogStream(services.db, { orgId: input.org.id, id: input.id });
  if (!stored) throw new ApiError("not_found", "stream not found");
  let secret: string | null = null;
  if (stored.secretSealed) {
    try {
      secret = services.secrets.open(stored.secretSealed);
    } catch {
      return {
        ok: false,
        status: null,
        message:
          "the stream's secret cannot be opened with this deployment's secrets key; set the destination's secret again",
      };
    }
  }
  const sender = createDestinationSender(stored.destination, secret, {
    allowLocal: services.env.WEBHOOK_ALLOW_LOCAL_URLS,
    lookup: services.lookupHost,
    timeoutMs: testSendTimeoutMs,
  });
  const now = new Date();
  const outcome = await sender
    .send({
      streamId: stored.id,
      org: { id: input.org.id, slug: input.org.slug },
      entries: [streamEntryOf(testEntry(input.org, now))],
      test: true,
    })
    .finally(() => sender.close?.());
  if (outcome.kind === "delivered") {
    return { ok: true, status: outcome.status, message: "the receiver accepted the test message" };
  }
  return {
    ok: false,
    status: outcome.kind === "refused" ? null : outcome.status,
    message: outcome.reason.slice(0, 500),
  };
}
