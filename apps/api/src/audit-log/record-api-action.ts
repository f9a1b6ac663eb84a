import { type AuditEventInput, newId, validateEvent } from "@auditlog/events";
import { catalogFingerprint } from "@auditlog/events/jobs";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { peerAddress } from "../http/client-address.ts";
import { enqueueIngestBatch } from "../ingest/ingest-service.ts";
import type { Services } from "../services.ts";

/** Who acted, as the API's own entries record them (`system`: the operator CLI). */
export interface ApiActor {
  type: "user" | "token" | "system";
  id: string;
  name: string;
}

/** Where the request came from: the full address, for the worker to geolocate and truncate. */
export interface ApiClient {
  ip?: string;
  userAgent?: string;
}

/** The target of the entries the API records about an organisation's own log. */
export function orgTarget(org: { slug: string; name: string }) {
  return { type: "organization", id: org.slug, name: org.name };
}

/** The signed-in user of a request (`userAuth`), as the actor of what the API does for them. */
export function requestActor(c: Context<AppEnv>): ApiActor {
  const { user, authMethod } = c.var;
  return { type: authMethod === "token" ? "token" : "user", id: user.id, name: user.name };
}

export function requestClient(c: Context<AppEnv>): ApiClient {
  const ip = peerAddress(c);
  const userAgent = c.req.header("user-agent")?.slice(0, 1000);
  return { ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) };
}

/**
 * Records an action the API itself performs (an export requested, a file downloaded) in the
 * organisation's own log, through the same pipeline as every other event. It resolves once the
 * event is queued: callers record before they act, so nothing is done that the log would miss.
 */
export async function recordApiAction(
  services: Pick<Services, "jobs" | "redis" | "env" | "logger">,
  input: {
    orgId: string;
    actor: ApiActor;
    client: ApiClient;
    event: Pick<AuditEventInput, "type" | "data" | "target">;
  },
): Promise<void> {
  const { event, ...rest } = input;
  await recordApiActions(services, { ...rest, events: [event] });
}

/**
 * Several actions of one request (a retention change and a legal hold placed together) as one
 * batch: one job, so they are recorded together or not at all.
 */
export async function recordApiActions(
  services: Pick<Services, "jobs" | "redis" | "env" | "logger">,
  input: {
    orgId: string;
    actor: ApiActor;
    client: ApiClient;
    events: Pick<AuditEventInput, "type" | "data" | "target">[];
  },
): Promise<void> {
  const now = new Date().toISOString();
  const events = input.events.map((event) => {
    const validation = validateEvent({
      ...event,
      id: newId("evt"),
      occurredAt: now,
      actor: input.actor,
      context: input.client,
    });
    if (!validation.ok) {
      throw new Error(`internal event ${event.type} is invalid: ${validation.issues[0]?.path}`);
    }
    return validation.event;
  });
  await enqueueIngestBatch(services, {
    orgId: input.orgId,
    receivedAt: now,
    catalog: catalogFingerprint,
    events,
  });
}
