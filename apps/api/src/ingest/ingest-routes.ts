import { planHasAuditLogs, planLacksAuditLogs } from "@auditlog/db";
import { auditEventSchema } from "@auditlog/events";
import { Hono, type MiddlewareHandler } from "hono";
import { bodyLimit } from "hono/body-limit";
import { z } from "zod";
import type { AppEnv } from "../app-env.ts";
import { apiKeyAuth } from "../auth/api-key-auth.ts";
import { ApiError } from "../errors.ts";
import { readJson } from "../http/json-body.ts";
import { limitIngestRequests } from "../http/rate-limit.ts";
import { documented, json } from "../openapi/describe.ts";
import { idempotencyKeyHeader, parseIdempotencyKey } from "./idempotency-key.ts";
import { acceptEvents, maxEventsPerBatch } from "./ingest-service.ts";

/** The catalog's event, once in the document (`components.schemas.AuditEvent`). */
const auditEvent = auditEventSchema.meta({
  id: "AuditEvent",
  description: "An event of the catalog: its `type` picks the shape of `data`",
});
/** What `acceptEvents` reads: one event, or a batch of them. */
const ingestBodySchema = z.union([
  auditEvent,
  z.strictObject({ events: z.array(auditEvent).min(1).max(maxEventsPerBatch) }),
]);

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

/**
 * Counts the requests answered with an error, by code: a refused request queues nothing. Outside
 * the other steps, so refusals by size, key and rate limits count too.
 */
const countRefusals: MiddlewareHandler<AppEnv> = async (c, next) => {
  await next();
  if (c.res.status < 400 || !c.var.services.env.METRICS) return;
  const reason = c.error instanceof ApiError ? c.error.code : String(c.res.status);
  c.var.services.metrics.ingestRequestsRefused.inc({ reason });
};

/** How many events a body holds, as `acceptEvents` reads it (a body without a list is one). */
function eventCount(body: unknown): number {
  const events = (body as { events?: unknown } | null)?.events;
  return Array.isArray(events) ? events.length : 1;
}

/** `POST /v1/events`: one event or a batch, from a platform service holding an API key. */
export const ingestRoutes = new Hono<AppEnv>().post(
  "/",
  documented({
    tag: "Ingestion",
    summary: "Record one event or a batch",
    description:
      "Every event is validated against the catalog and queued, or none is: 400 names each bad field of each bad event (`events[3].data.role`), 403 each event of a type only the API records. Events sent without `id` get one (derived from `Idempotency-Key` when sent, so a retried request stores nothing twice). 429 with Retry-After when the key's quota is spent or the queue is full; 503 when the queue is unavailable.",
    auth: "apiKey",
    parameters: [
      {
        name: "Idempotency-Key",
        in: "header",
        description:
          "1 to 255 visible ASCII characters (no quotes, backslashes or spaces), bare or as a structured-field string",
        schema: { type: "string", maxLength: 257 },
      },
    ],
    body: {
      schema: ingestBodySchema,
      description: `One event, or \`{ "events": [ … ] }\` with 1 to ${maxEventsPerBatch}`,
    },
    bodyLimit: true,
    responses: {
      202: json(
        z.object({ accepted: z.number().int(), ids: z.array(z.string()) }),
        "Every event queued; their ids in order",
      ),
    },
    errors: [403, 503],
  }),
  countRefusals,
  limitBodySize,
  apiKeyAuth,
  limitIngestRequests,
  async (c) => {
    const org = c.var.ingestOrg;
    if (!planHasAuditLogs(org.plan)) {
      throw new ApiError("forbidden", planLacksAuditLogs(org));
    }
    const idempotencyKey = parseIdempotencyKey(c.req.header(idempotencyKeyHeader));
    // Before the body is read: a request held here costs no CPU.
    if (!(await c.var.services.ingestAdmission.admit())) {
      c.header("Retry-After", "1");
      throw new ApiError(
        "rate_limited",
        "the ingest queue is full; nothing was accepted, retry after the Retry-After delay",
      );
    }
    const { metrics, env } = c.var.services;
    const body = await readJson(c);
    let ids: string[];
    try {
      ids = await acceptEvents(c.var.services, {
        orgId: org.id,
        body,
        requestId: c.var.requestId,
        idempotencyKey,
      });
    } catch (error) {
      if (env.METRICS) {
        const reason = error instanceof ApiError ? error.code : "internal_error";
        metrics.ingestEventsRefused.inc({ reason }, eventCount(body));
      }
      throw error;
    }
    if (env.METRICS) metrics.eventsAccepted.inc(ids.length);
    return c.json({ accepted: ids.length, ids }, 202);
  },
);
