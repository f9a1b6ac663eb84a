import type {
  StreamFailingWebhookPayload,
  StreamRecoveredWebhookPayload,
} from "@auditlog/events/jobs";
import type { AdminNotifier } from "../notifications/admin-notifier.ts";

/** A stream's change of state its organisation's admins are told about. */
export interface StreamStateChange {
  kind: "stream.failing" | "stream.recovered";
  stream: { id: string; name: string; orgId: string; orgSlug: string; destinationType: string };
  /** When the failure (being reported, or just ended) began. */
  failingSince: Date | null;
  /** The last delivery error (failing only); never holds the destination's secret. */
  lastError?: string;
  /** Entries of the log after the stream's cursor (failing only). */
  behindBy?: number | null;
  now?: Date;
}

export type StreamStateNotifier = (change: StreamStateChange) => Promise<void>;

/** The console page of an organisation's streams. */
export function streamsConsolePath(orgSlug: string): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/settings/streams`;
}

/** The title and body of a stream notification, as the console and the email show it. */
export function renderStreamNotification(change: StreamStateChange): {
  title: string;
  body: string;
} {
  const { stream } = change;
  if (change.kind === "stream.recovered") {
    return {
      title: `Log stream "${stream.name}" delivers again`,
      body: `The log stream "${stream.name}" (${stream.destinationType}) reached its destination again and is catching up; no entry was skipped.`,
    };
  }
  const since = change.failingSince ? ` since ${change.failingSince.toISOString()}` : "";
  return {
    title: `Log stream "${stream.name}" is failing`,
    body: `Deliveries of the log stream "${stream.name}" (${stream.destinationType}) have failed${since}: ${change.lastError ?? "unknown error"}. Entries are kept and sent, in order, once the destination accepts them again.`,
  };
}

/**
 * Tells every admin of the stream's organisation, on every channel (console, live push, email
 * when SMTP is set), and the organisation's webhook once, through `notifyOrgAdmins`.
 */
export function createStreamNotifier(notifyOrgAdmins: AdminNotifier): StreamStateNotifier {
  return async (change) => {
    const now = change.now ?? new Date();
    const { stream } = change;
    const link = streamsConsolePath(stream.orgSlug);
    const common = {
      streamId: stream.id,
      streamName: stream.name,
      org: stream.orgSlug,
      destinationType: stream.destinationType,
      link,
    };
    const webhookPayload: StreamFailingWebhookPayload | StreamRecoveredWebhookPayload =
      change.kind === "stream.failing"
        ? {
            type: "stream.failing",
            timestamp: now.toISOString(),
            data: {
              ...common,
              failingSince: (change.failingSince ?? now).toISOString(),
              lastError: change.lastError?.slice(0, 1000) ?? null,
              behindBy: change.behindBy ?? null,
            },
          }
        : {
            type: "stream.recovered",
            timestamp: now.toISOString(),
            data: {
              ...common,
              failingSince: change.failingSince?.toISOString() ?? null,
              recoveredAt: now.toISOString(),
            },
          };
    await notifyOrgAdmins({
      orgId: stream.orgId,
      kind: change.kind,
      ...renderStreamNotification(change),
      subjectId: stream.id,
      link,
      webhookPayload,
    });
  };
}
