import type { NotifyWebhookJob } from "@auditlog/events/jobs";
import { signWebhook } from "./webhook-signature.ts";

export type WebhookOutcome =
  | { kind: "delivered"; status: number }
  /** Worth another try: network error, timeout, 408, 429, 5xx, a redirect. */
  | { kind: "retry"; reason: string }
  /** The receiver refused the message itself (4xx): retrying cannot help. */
  | { kind: "rejected"; status: number }
  /** 410 Gone: the receiver asks us to stop sending (Standard Webhooks). */
  | { kind: "gone" };

/**
 * One signed POST of a webhook message. The body is the same bytes on every retry; the
 * timestamp (and so the signature) is the attempt's, so receivers can refuse stale replays.
 */
export async function deliverWebhook(input: {
  url: string;
  secret: string;
  job: NotifyWebhookJob;
  timeoutMs: number;
  now?: Date;
}): Promise<WebhookOutcome> {
  const body = JSON.stringify(input.job.payload);
  const timestamp = Math.floor((input.now ?? new Date()).getTime() / 1000);
  const signature = signWebhook({
    secret: input.secret,
    id: input.job.messageId,
    timestamp,
    body,
  });
  let response: Response;
  try {
    response = await fetch(input.url, {
      method: "POST",
      headers: {
        "content-type": "application/json",
        "user-agent": "auditlog-webhooks/1",
        "webhook-id": input.job.messageId,
        "webhook-timestamp": String(timestamp),
        "webhook-signature": signature,
      },
      body,
      // A redirect is a failure, not an invitation to send the signed body elsewhere.
      redirect: "manual",
      signal: AbortSignal.timeout(input.timeoutMs),
    });
  } catch (error) {
    const err = error as Error;
    const reason =
      err.name === "TimeoutError"
        ? `no answer within ${input.timeoutMs} ms`
        : `request failed: ${(err.cause as Error | undefined)?.message ?? err.message}`;
    return { kind: "retry", reason };
  }
  // Only the status matters; do not let a large or slow body hold the connection.
  await response.body?.cancel().catch(() => {});
  const { status } = response;
  if (status >= 200 && status < 300) return { kind: "delivered", status };
  if (status === 410) return { kind: "gone" };
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
    return { kind: "rejected", status };
  }
  return { kind: "retry", reason: `receiver answered ${status}` };
}
