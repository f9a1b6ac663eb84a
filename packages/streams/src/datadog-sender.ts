import type { StreamEntry } from "@auditlog/events";
import { createSenderConnections } from "./checked-post.ts";
import type { DestinationSender, SenderDeps } from "./destination-sender.ts";
import type { DatadogDestination } from "./destination-types.ts";
import { chunkBySize, sendParts, sendRequest } from "./http-sender.ts";
import { shorten, statusOutcome } from "./send-context.ts";

/** Datadog's documented limits per request of the logs intake API v2. */
export const datadogLimits = {
  maxEntriesPerRequest: 1000,
  maxRequestBytes: 5 * 1024 * 1024,
  maxLogBytes: 1024 * 1024,
} as const;

export function datadogIntakeUrl(destination: DatadogDestination): string {
  return destination.url ?? `https://http-intake.logs.${destination.site}/api/v2/logs`;
}

/**
 * One Datadog log per entry: `message` is the entry as JSON (Datadog parses a JSON message into
 * attributes), `date` its `occurredAt` (the reserved date attribute), and `auditlog` the ids a
 * receiver deduplicates with. Datadog drops logs dated more than 18 hours back: a stream started
 * from an old `seq` shows its backlog only in the other destinations.
 */
export function datadogLog(
  entry: StreamEntry,
  destination: DatadogDestination,
  batch: { streamId: string; org: { id: string; slug: string }; test?: boolean },
) {
  return {
    ddsource: destination.ddsource,
    ...(destination.ddtags ? { ddtags: destination.ddtags } : {}),
    hostname: "auditlog",
    service: destination.service,
    message: entry.json,
    date: entry.occurredAt,
    auditlog: {
      id: entry.id,
      seq: entry.seq,
      org: batch.org.slug,
      streamId: batch.streamId,
      ...(batch.test ? { test: true } : {}),
    },
  };
}

/**
 * `datadog`: the logs intake API v2, `DD-API-KEY`, a JSON array of logs. A batch over the
 * documented limits (1,000 logs, 5 MB uncompressed) goes in several requests, delivered only when
 * every one was accepted (202). 400 and 401/403 (a bad API key) and 413 reject; 408, 429 and 5xx
 * retry, with Retry-After.
 */
export function createDatadogSender(
  destination: DatadogDestination,
  secret: string | null,
  deps: SenderDeps,
): DestinationSender {
  const url = datadogIntakeUrl(destination);
  const connections = createSenderConnections();
  return {
    close: connections.close,
    async send(batch, options) {
      if (!secret)
        return { kind: "rejected", reason: "no Datadog API key configured", status: null };
      const logs = batch.entries.map((entry) =>
        JSON.stringify(datadogLog(entry, destination, batch)),
      );
      const parts = chunkBySize(logs, (log) => Buffer.byteLength(log), {
        maxCount: datadogLimits.maxEntriesPerRequest,
        maxBytes: datadogLimits.maxRequestBytes,
        separatorBytes: 1,
        frameBytes: 2,
      });
      return sendParts(parts, (part) =>
        sendRequest({
          url,
          headers: { "dd-api-key": secret, "content-type": "application/json" },
          body: `[${part.join(",")}]`,
          deps,
          secret,
          signal: options?.signal,
          connections,
          interpret: (response, retryAfterMs) =>
            statusOutcome({
              status: response.status,
              retryAfterMs,
              detail: shorten(response.body, 200),
              secret,
            }),
        }),
      );
    },
  };
}
