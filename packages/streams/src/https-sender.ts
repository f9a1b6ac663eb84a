import type { AuditEntry } from "@auditlog/events";
import { signWebhook } from "@auditlog/events/webhooks";
import { createSenderConnections } from "./checked-post.ts";
import type { DestinationSender, SenderDeps, StreamBatch } from "./destination-sender.ts";
import type { HttpsDestination } from "./destination-types.ts";
import { entryBodyPieces } from "./entry-bytes.ts";
import { sendRequest } from "./http-sender.ts";
import { redactSecret, shorten, statusOutcome } from "./send-context.ts";

/** The `type` of every https stream message (Standard Webhooks payload structure). */
export const streamMessageType = "audit_log.entries";

/**
 * The body of one https stream message:
 * `{ type: "audit_log.entries", timestamp, data: { org: { id, slug }, streamId, entries, test? } }`,
 * `timestamp` being the `receivedAt` of the batch's last entry, so a retry sends the very same
 * bytes (only the signature's timestamp is the attempt's).
 */
export interface StreamMessage {
  type: typeof streamMessageType;
  timestamp: string;
  data: {
    org: { id: string; slug: string };
    streamId: string;
    entries: AuditEntry[];
    test?: true;
  };
}

/**
 * The JSON text of a batch's `StreamMessage`, the entries' own texts spliced in: the entries are
 * never parsed nor serialised again here, whatever the batch's size.
 */
export function streamMessageBody(batch: StreamBatch): string {
  const { prefix, suffix } = streamMessageFrame(batch);
  return `${prefix}${batch.entries.map((entry) => entry.json).join(",")}${suffix}`;
}

/**
 * The same message as UTF-8 bytes, as sent, in pieces: each entry's bytes encoded once per entry
 * object (`entryJsonBytes`), so streams sharing entries (the worker's shared read) encode each
 * only once, and consecutive entries the shared read encoded together are one slice, not copied.
 * Joined, byte for byte `Buffer.from(streamMessageBody(batch))`.
 */
export function streamMessagePieces(batch: StreamBatch): Buffer[] {
  const { prefix, suffix } = streamMessageFrame(batch);
  return entryBodyPieces(prefix, batch.entries, comma, suffix);
}

const comma = 0x2c;

/** The message's text before and after its entries (`…"entries":[` and `]…}}`). */
function streamMessageFrame(batch: StreamBatch): { prefix: string; suffix: string } {
  const last = batch.entries[batch.entries.length - 1];
  const head = JSON.stringify({
    type: streamMessageType,
    timestamp: last?.receivedAt ?? new Date(0).toISOString(),
  });
  const org = JSON.stringify({ id: batch.org.id, slug: batch.org.slug });
  return {
    prefix: `${head.slice(0, -1)},"data":{"org":${org},"streamId":${JSON.stringify(batch.streamId)},"entries":[`,
    suffix: `]${batch.test ? ',"test":true' : ""}}}`,
  };
}

/**
 * The `webhook-id` of a batch: `<streamId>_<firstSeq>-<lastSeq>`, the same on every retry so a
 * receiver can drop a batch it already took (Standard Webhooks' idempotency key). A test message
 * gets an id of its own (`…_test-<ms>`): it must not be mistaken for, or hide, a real batch.
 */
export function batchMessageId(batch: StreamBatch, now: Date): string {
  const first = batch.entries[0]?.seq ?? 0;
  const last = batch.entries[batch.entries.length - 1]?.seq ?? 0;
  return batch.test
    ? `${batch.streamId}_test-${now.getTime()}`
    : `${batch.streamId}_${first}-${last}`;
}

/**
 * `https`: one signed POST per batch (Standard Webhooks: webhook-id, webhook-timestamp,
 * webhook-signature `v1,<base64 HMAC-SHA256 of "id.timestamp.body">` keyed with the `whsec_`
 * secret). Without a signing secret the headers but the signature are sent. 2xx delivers; 408,
 * 429, 5xx (and a redirect, never followed) retry; any other 4xx rejects.
 */
export function createHttpsSender(
  destination: HttpsDestination,
  secret: string | null,
  deps: SenderDeps,
): DestinationSender {
  const connections = createSenderConnections();
  return {
    close: connections.close,
    async send(batch, options) {
      const now = deps.now?.() ?? new Date();
      // Encoded once: the signature, Content-Length and the socket all take these bytes.
      const body = streamMessagePieces(batch);
      const id = batchMessageId(batch, now);
      const timestamp = Math.floor(now.getTime() / 1000);
      const headers: Record<string, string> = {
        "content-type": "application/json",
        "webhook-id": id,
        "webhook-timestamp": String(timestamp),
      };
      if (secret) {
        try {
          headers["webhook-signature"] = signWebhook({ secret, id, timestamp, body });
        } catch (error) {
          // The message names the expected prefix, never the secret itself.
          return {
            kind: "rejected",
            reason: redactSecret(`signing secret unusable: ${(error as Error).message}`, secret),
            status: null,
          };
        }
      }
      return sendRequest({
        url: destination.url,
        headers,
        body,
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
      });
    },
  };
}
