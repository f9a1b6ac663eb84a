import { type Database, insertNotification, listOrgAdmins, toNotification } from "@auditlog/db";
import { type RealtimeMessage, realtimeChannels } from "@auditlog/events";
import type { Logger } from "@auditlog/observability";
import type { Redis } from "ioredis";

/** A stream's change of state its organisation's admins are told about. */
export interface StreamStateChange {
  kind: "stream.failing" | "stream.recovered";
  stream: { id: string; name: string; orgId: string; orgSlug: string };
  /** The last delivery error (failing only); never holds the destination's secret. */
  lastError?: string;
  /** Since when deliveries fail (failing only). */
  failingSince?: Date | null;
}

export type StreamStateNotifier = (change: StreamStateChange) => Promise<void>;

/** The title and body of a stream notification, as every channel shows it. */
export function renderStreamNotification(change: StreamStateChange): {
  title: string;
  body: string;
  link: string;
} {
  const { stream } = change;
  const link = `/orgs/${stream.orgSlug}/settings/streams`;
  if (change.kind === "stream.recovered") {
    return {
      title: `Log stream "${stream.name}" delivers again`,
      body: `The log stream "${stream.name}" of ${stream.orgSlug} reached its destination again and is catching up; no entry was skipped.`,
      link,
    };
  }
  const since = change.failingSince ? ` since ${change.failingSince.toISOString()}` : "";
  return {
    title: `Log stream "${stream.name}" is failing`,
    body: `Deliveries of the log stream "${stream.name}" of ${stream.orgSlug} have failed${since}: ${change.lastError ?? "unknown error"}. Entries are kept and sent, in order, once the destination accepts them again.`,
    link,
  };
}

/**
 * Tells every admin of the stream's organisation in the console: a stored notification each,
 * pushed live to their open consoles (best effort: the console lists stored ones on reconnect).
 */
export function createConsoleStreamNotifier(deps: {
  db: Database;
  publisher: Pick<Redis, "publish">;
  logger: Logger;
}): StreamStateNotifier {
  return async (change) => {
    const rendered = renderStreamNotification(change);
    for (const admin of await listOrgAdmins(deps.db, change.stream.orgId)) {
      const { notification: row } = await insertNotification(deps.db, {
        userId: admin.id,
        orgId: change.stream.orgId,
        kind: change.kind,
        title: rendered.title,
        body: rendered.body,
        exportId: null,
        subjectId: change.stream.id,
        link: rendered.link,
      });
      const message: RealtimeMessage = {
        userId: admin.id,
        event: "notification",
        data: toNotification(row),
      };
      try {
        await deps.publisher.publish(realtimeChannels.notifications, JSON.stringify(message));
      } catch (error) {
        deps.logger.warn("notification not published", {
          notificationId: row.id,
          error: (error as Error).message,
        });
      }
    }
  };
}
