import { once } from "node:events";
import { type AuditEventInput, newId, validateEvent } from "@auditlog/events";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { Services } from "../services.ts";
import type { AppEnv } from "../types.ts";

/**
 * Queues one batch as one job. BullMQ waits for a connection that is not ready instead of
 * failing, so the wait is bounded: a Redis outage must become an immediate 503, not a hang.
 */
export async function enqueueBatch(services: Services, job: IngestBatchJob): Promise<void> {
  await withinRedisDeadline(services, () => services.jobs.ingest.add("ingest.batch", job));
}

/**
 * Runs one producer command against Redis (a queue add) within REDIS_COMMAND_TIMEOUT_MS, waiting
 * for a reconnecting client at most that long: a Redis outage fails at once, never hangs.
 */
export async function withinRedisDeadline(
  services: Services,
  command: () => Promise<unknown>,
): Promise<void> {
  let timer: NodeJS.Timeout | undefined;
  try {
    await Promise.race([
      (async () => {
        if (services.redis.status !== "ready") await once(services.redis, "ready");
        await command();
      })(),
      new Promise((_, reject) => {
        timer = setTimeout(
          () => reject(new Error("queue add timed out")),
          services.env.REDIS_COMMAND_TIMEOUT_MS,
        );
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}

/** The connecting peer, for the worker to geolocate and truncate; undefined without a socket. */
export function peerAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}

/**
 * Records an action the API itself performs on behalf of the signed-in user (an export, a
 * download) through the same pipeline as every other event.
 */
export async function recordUserAction(
  c: Context<AppEnv>,
  orgId: string,
  event: Pick<AuditEventInput, "type" | "data" | "target">,
  /** Who acted, when not the signed-in user (a signed download link carries no session). */
  actor?: { type: "user" | "token"; id: string; name: string },
): Promise<void> {
  const user = c.var.user;
  const ip = peerAddress(c);
  const userAgent = c.req.header("user-agent")?.slice(0, 1000);
  const input = {
    ...event,
    id: newId("evt"),
    occurredAt: new Date().toISOString(),
    actor: actor ?? {
      type: c.var.authMethod === "token" ? "token" : "user",
      id: user.id,
      name: user.name,
    },
    context: { ...(ip ? { ip } : {}), ...(userAgent ? { userAgent } : {}) },
  };
  const validation = validateEvent(input);
  if (!validation.ok) {
    throw new Error(`internal event ${event.type} is invalid: ${validation.issues[0]?.path}`);
  }
  await enqueueBatch(c.var.services, {
    orgId,
    receivedAt: new Date().toISOString(),
    catalog: catalogFingerprint,
    events: [validation.event],
  });
}
