import type { StreamDestination, StreamEntry } from "@auditlog/events";
import type { HostLookup } from "@auditlog/events/webhooks";

/**
 * The one seam between a stream's delivery loop (the worker) and its destinations: the loop
 * decides what to send and when; a sender speaks one receiver's protocol and says what became of
 * a batch. Shared with the API, whose `POST …/streams/:id/test` sends one test batch.
 */

/**
 * One batch of one organisation's entries, ascending `seq`, never empty. Each entry carries its
 * JSON text (`StreamEntry.json`, the API's shape): senders splice it into their envelope as it is.
 */
export interface StreamBatch {
  streamId: string;
  org: { id: string; slug: string };
  entries: readonly StreamEntry[];
  /** Marks a test message (`POST …/test`): receivers see `test: true` where the protocol allows. */
  test?: boolean;
}

export type DeliveryOutcome =
  /** The receiver accepted the whole batch: the stream's cursor may move past its last seq. */
  | { kind: "delivered"; status: number | null }
  /** Worth another try (network error, timeout, 408, 429, 5xx …); `retryAfterMs` from the receiver. */
  | { kind: "retry"; reason: string; status: number | null; retryAfterMs?: number }
  /**
   * The receiver refused the batch for a reason retrying will not fix by itself (401, 403, a
   * bad token, a missing bucket). The loop still never skips: it backs off and retries, and the
   * stream turns `failing` until an admin fixes the destination.
   */
  | { kind: "rejected"; reason: string; status: number | null }
  /** The destination's address is one streams may not reach (the webhook rule): nothing sent. */
  | { kind: "refused"; reason: string };

export interface DestinationSender {
  send(batch: StreamBatch, options?: { signal?: AbortSignal }): Promise<DeliveryOutcome>;
  /**
   * Ends the connections the sender kept open between its batches (a stream's turn is over).
   * Sending after it opens new ones.
   */
  close?(): void;
}

export interface SenderDeps {
  /** WEBHOOK_ALLOW_LOCAL_URLS: the same address rule as webhooks. */
  allowLocal: boolean;
  /** Resolves hosts (the machine's resolver unless a test injects one). */
  lookup?: HostLookup;
  timeoutMs: number;
  now?: () => Date;
}

/** Makes the sender of a destination, given its opened secret (null when it has none). */
export type CreateDestinationSender = (
  destination: StreamDestination,
  secret: string | null,
  deps: SenderDeps,
) => DestinationSender;
