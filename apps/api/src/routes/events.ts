import { planHasAuditLogs, planLacksAuditLogs } from "@auditlog/db";
import { type AuditEvent, type FieldIssue, newId, validateEvent } from "@auditlog/events";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { ApiError } from "../errors.ts";
import { readJson } from "../http/json-body.ts";
import { enqueueBatch } from "../ingest/enqueue.ts";
import { apiKeyAuth } from "../middleware/api-key-auth.ts";
import type { AppEnv } from "../types.ts";

export const maxEventsPerBatch = 1000;

/**
 * 413 for a body over MAX_BODY_BYTES. A declared length is judged from the header alone, which
 * leaves the body to @hono/node-server's direct read from the socket: Hono's `bodyLimit` first
 * touches `c.req.raw.body`, and that builds a whole web Request with a ReadableStream over the
 * socket for every request, about a third of the API's time per batch. A body without a length
 * (chunked) is counted by `bodyLimit` as it arrives.
 */
const limitBodySize: MiddlewareHandler<AppEnv> = (c, next) => {
  const maxSize = c.var.services.env.MAX_BODY_BYTES;
  const tooLarge = () => {
    throw new ApiError("payload_too_large", `request body exceeds ${maxSize} bytes`);
  };
  const declared = c.req.header("content-length");
  if (declared !== undefined && /^\d+$/.test(declared) && !c.req.header("transfer-encoding")) {
    return Number(declared) > maxSize ? tooLarge() : next();
  }
  return bodyLimit({ maxSize, onError: tooLarge })(c, next);
};

export const eventsRoutes = new Hono<AppEnv>().post("/", limitBodySize, apiKeyAuth, async (c) => {
  const org = c.var.ingestOrg;
  if (!planHasAuditLogs(org.plan)) {
    throw new ApiError("forbidden", planLacksAuditLogs(org));
  }
  // Before the body is read: a request held here costs no CPU.
  if (!(await c.var.services.ingestAdmission.admit())) {
    c.header("Retry-After", "1");
    throw new ApiError(
      "rate_limited",
      "the ingest queue is full; nothing was accepted, retry after the Retry-After delay",
    );
  }
  const { events, prefix } = splitBody(await readJson(c));

  const issues: FieldIssue[] = [];
  const receivedAt = new Date();
  const receivedAtText = receivedAt.toISOString();
  const accepted: AuditEvent[] = [];
  events.forEach((input, index) => {
    const validation = validateEvent(input, prefix(index));
    if (!validation.ok) {
      issues.push(...validation.issues);
      return;
    }
    // The job carries the event as validated, plus the id and time the API assigns, so the
    // worker stores exactly what was acknowledged. The parsed event is the API's own object.
    const event = validation.event;
    event.id ??= newId("evt", receivedAt);
    event.occurredAt ??= receivedAtText;
    accepted.push(event);
  });
  if (issues.length > 0) {
    const failing = new Set(issues.map((i) => i.path.match(/^events\[(\d+)\]/)?.[1] ?? "0"));
    throw new ApiError(
      "validation_failed",
      `${failing.size} of ${events.length} event(s) are invalid; nothing was accepted`,
      issues.slice(0, 200),
    );
  }

  const job: IngestBatchJob = {
    orgId: org.id,
    receivedAt: receivedAtText,
    catalog: catalogFingerprint,
    events: accepted,
  };
  try {
    await enqueueBatch(c.var.services, job);
  } catch (error) {
    c.var.services.logger.warn("ingest queue unavailable", {
      requestId: c.var.requestId,
      error: (error as Error).message,
    });
    throw new ApiError(
      "service_unavailable",
      "the ingest queue is unavailable; nothing was accepted, retry later",
    );
  }
  const ids = accepted.map((e) => e.id as string);
  return c.json({ accepted: ids.length, ids }, 202);
});

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
