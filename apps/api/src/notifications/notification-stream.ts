import {
  countUnreadNotifications,
  type Database,
  listUserMemberships,
  planHasAuditLogs,
} from "@auditlog/db";
import { type EntriesStoredEvent, type RealtimeMessage, roleCan } from "@auditlog/events";
import type { Context } from "hono";
import { type SSEMessage, streamSSE } from "hono/streaming";
import type { AppEnv } from "../app-env.ts";
import { credentialStillValid } from "../auth/user-auth.ts";
import { ApiError } from "../errors.ts";
import type { RealtimeSubscription } from "./realtime-hub.ts";

/** A comment line keeps proxies and load balancers from closing an idle stream. */
export const sseHeartbeatMs = 15_000;
/** How long a new stream waits for this process's subscriber before saying `ready` anyway. */
const subscribeWaitMs = 5_000;
/** A client that stops reading is cut off rather than buffered without bound. */
const maxPendingWrites = 1_000;
/** Browsers reconnect this long after the stream drops. */
const reconnectAfterMs = 3_000;

function toSseMessage(message: RealtimeMessage): SSEMessage {
  if (message.event === "notification") {
    return { event: "notification", data: JSON.stringify(message.data), id: message.data.id };
  }
  return { event: message.event, data: JSON.stringify(message.data) };
}

/** The organisations whose log the user may read (admin or auditor, plan with audit logs): id → slug. */
async function readableLogs(db: Database, userId: string): Promise<Map<string, string>> {
  const memberships = await listUserMemberships(db, userId);
  return new Map(
    memberships
      .filter(({ role, org }) => roleCan(role, "readLog") && planHasAuditLogs(org.plan))
      .map(({ org }) => [org.id, org.slug]),
  );
}

/**
 * The signed-in user's live stream (Server-Sent Events): `ready` once subscribed (data
 * `{ unreadCount }`; sent again after this process's Redis subscriber reconnected, as a cue to
 * refetch the list), then `notification` (id = the notification's id) and `export.progress`
 * events for this user only, `entries.stored` (an EntriesStoredEvent: counts, no content) for
 * each organisation whose log the user may read, and a comment every 15 s — as long as the credential that opened
 * it still works.
 */
export function streamNotifications(c: Context<AppEnv>) {
  const { services, user, credential } = c.var;
  if (!services.realtime.hasRoom()) {
    throw new ApiError(
      "service_unavailable",
      "this server holds as many live streams as it may; retry shortly",
      undefined,
      { "Retry-After": "5" },
    );
  }
  c.header("X-Accel-Buffering", "no");
  return streamSSE(c, async (stream) => {
    let finished = false;
    let pending = 0;
    let started = false;
    const early: SSEMessage[] = [];
    let chain: Promise<unknown> = Promise.resolve();
    let heartbeat: ReturnType<typeof setInterval> | undefined;
    let subscription: RealtimeSubscription | undefined;
    let resolveDone: () => void = () => {};
    const done = new Promise<void>((resolve) => {
      resolveDone = resolve;
    });

    const finish = () => {
      if (finished) return;
      finished = true;
      if (heartbeat) clearInterval(heartbeat);
      subscription?.unsubscribe();
      resolveDone();
    };
    // Writes are queued so that events leave in order and a slow client cannot interleave them.
    const write = (action: () => Promise<unknown>) => {
      if (finished) return;
      if (pending >= maxPendingWrites) {
        services.logger.warn("SSE client too slow; closing its stream", { userId: user.id });
        finish();
        return;
      }
      pending += 1;
      chain = chain
        .then(() => (finished ? undefined : action()))
        .catch(() => finish())
        .finally(() => {
          pending -= 1;
        });
    };
    const send = (message: SSEMessage) => write(() => stream.writeSSE(message));
    const sendReady = async () => {
      const unreadCount = await countUnreadNotifications(services.db, user.id).catch(() => null);
      send({ event: "ready", data: JSON.stringify({ unreadCount }), retry: reconnectAfterMs });
    };

    stream.onAbort(finish);
    c.req.raw.signal.addEventListener("abort", finish, { once: true });
    // Re-read at every heartbeat: a member who may no longer read the log (demoted, removed) stops
    // hearing of it within one interval, one who now may starts.
    let logs = await readableLogs(services.db, user.id).catch(() => new Map<string, string>());
    if (finished) return;

    try {
      subscription = services.realtime.subscribe(user.id, {
        deliver: (message) => {
          const sse = toSseMessage(message);
          if (started) send(sse);
          else early.push(sse);
        },
        entriesStored: (message) => {
          const orgSlug = logs.get(message.orgId);
          if (orgSlug === undefined) return;
          const data: EntriesStoredEvent = {
            orgSlug,
            count: message.count,
            highestSeq: message.highestSeq,
          };
          const sse = { event: "entries.stored", data: JSON.stringify(data) };
          if (started) send(sse);
          else early.push(sse);
        },
        resync: () => {
          void sendReady();
        },
        close: finish,
      });
    } catch {
      // The process is stopping: end the stream; the browser reconnects to another one.
      finish();
      return;
    }
    if (finished) {
      // The client left (or the process is stopping) before we subscribed.
      subscription.unsubscribe();
      return;
    }
    let waitTimer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      subscription.ready,
      new Promise<void>((resolve) => {
        waitTimer = setTimeout(resolve, subscribeWaitMs);
      }),
      done,
    ]);
    clearTimeout(waitTimer);
    await sendReady();
    started = true;
    for (const message of early.splice(0)) send(message);
    // Each heartbeat re-checks the credential that opened the stream: a session ended (logout
    // everywhere, a password change) or a token revoked closes it within one interval.
    heartbeat = setInterval(
      () =>
        write(async () => {
          if (!(await credentialStillValid(services, credential))) {
            finish();
            return;
          }
          logs = await readableLogs(services.db, user.id).catch(() => logs);
          await stream.write(": heartbeat\n\n");
        }),
      sseHeartbeatMs,
    );
    await done;
  });
}
