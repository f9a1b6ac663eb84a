import type { StreamEntry } from "@auditlog/events";
import { createSenderConnections } from "./checked-post.ts";
import type { DeliveryOutcome, DestinationSender, SenderDeps } from "./destination-sender.ts";
import type { SplunkDestination } from "./destination-types.ts";
import { chunkBySize, sendParts, sendRequest } from "./http-sender.ts";
import { redactSecret, shorten, statusOutcome } from "./send-context.ts";

export const splunkEventPath = "/services/collector/event";

/** `<url>/services/collector/event`, unless the URL already ends with it. */
export function splunkEventUrl(url: string): string {
  const trimmed = url.replace(/\/+$/, "");
  return trimmed.endsWith(splunkEventPath) ? trimmed : `${trimmed}${splunkEventPath}`;
}

/**
 * One HEC event per entry: `{ time, host, source, sourcetype, index?, fields?, event }`. `time` is
 * the entry's `occurredAt` in epoch seconds with its milliseconds as decimals (what HEC
 * documents); `host` is `auditlog`; `source` the destination's or `auditlog:<org slug>`; the
 * event is the entry as the API answers it, its JSON text spliced in as it is.
 */
export function splunkEventText(
  entry: StreamEntry,
  destination: SplunkDestination,
  org: { slug: string },
  test: boolean,
): string {
  return splunkEventWith(entry, splunkEventFields(destination, org, test));
}

/** The fields every event of a batch shares (between `time` and `event`), as JSON text. */
function splunkEventFields(
  destination: SplunkDestination,
  org: { slug: string },
  test: boolean,
): string {
  const fields = JSON.stringify({
    host: "auditlog",
    source: destination.source ?? `auditlog:${org.slug}`,
    sourcetype: destination.sourcetype,
    ...(destination.index ? { index: destination.index } : {}),
    ...(test ? { fields: { test: "true" } } : {}),
  });
  return fields.slice(1, -1);
}

function splunkEventWith(entry: StreamEntry, fields: string): string {
  return `{"time":${Date.parse(entry.occurredAt) / 1000},${fields},"event":${entry.json}}`;
}

/**
 * HEC refuses a request larger than its `max_content_length` (1 MB on Splunk Cloud and older
 * Enterprise defaults): a batch is sent in parts of at most 1 MB.
 */
const maxRequestBytes = 1024 * 1024;

/** HEC answers `{ text, code }`; codes per Splunk's "Troubleshoot HTTP Event Collector". */
function readHecAnswer(body: string): { text: string; code: number } | null {
  try {
    const parsed = JSON.parse(body) as { text?: unknown; code?: unknown };
    if (typeof parsed.code !== "number") return null;
    return { text: typeof parsed.text === "string" ? parsed.text : "", code: parsed.code };
  } catch {
    return null;
  }
}

/**
 * `splunk`: the HTTP Event Collector, `Authorization: Splunk <token>`, the events of a batch as
 * concatenated JSON objects. 200 with code 0 delivers; 400 (bad data, code 5–7, 12–13 …), 401
 * (token missing or bad: codes 2–3) and 403 (token invalid or disabled: codes 1, 4) reject;
 * 429, 5xx and 503 "server is busy" (code 9) retry, with Retry-After.
 */
export function createSplunkSender(
  destination: SplunkDestination,
  secret: string | null,
  deps: SenderDeps,
): DestinationSender {
  const url = splunkEventUrl(destination.url);
  const connections = createSenderConnections();
  return {
    close: connections.close,
    async send(batch, options) {
      if (!secret) return { kind: "rejected", reason: "no HEC token configured", status: null };
      const fields = splunkEventFields(destination, batch.org, batch.test === true);
      const lines = batch.entries.map((entry) => splunkEventWith(entry, fields));
      const parts = chunkBySize(lines, (line) => Buffer.byteLength(line), {
        maxCount: Number.POSITIVE_INFINITY,
        maxBytes: maxRequestBytes,
        separatorBytes: 1,
        frameBytes: 0,
      });
      return sendParts(parts, (part) =>
        sendRequest({
          url,
          headers: {
            authorization: `Splunk ${secret}`,
            "content-type": "application/json",
          },
          body: part.join("\n"),
          deps,
          secret,
          signal: options?.signal,
          connections,
          interpret: (response, retryAfterMs): DeliveryOutcome => {
            const answer = readHecAnswer(response.body);
            const detail = answer
              ? `${answer.text} (code ${answer.code})`
              : shorten(response.body, 200);
            if (response.status === 200 && answer?.code !== 0) {
              return {
                kind: "retry",
                reason: redactSecret(`unexpected HEC answer: ${detail}`, secret),
                status: response.status,
              };
            }
            return statusOutcome({ status: response.status, retryAfterMs, detail, secret });
          },
        }),
      );
    },
  };
}
