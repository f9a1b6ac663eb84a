import { request as httpRequest, type IncomingMessage } from "node:http";
import { request as httpsRequest } from "node:https";
import type { NotifyWebhookJob } from "@auditlog/events/jobs";
import {
  checkedPostOptions,
  type HostLookup,
  type ResolvedAddress,
  resolveWebhookTarget,
  signWebhook,
  systemHostLookup,
} from "@auditlog/events/webhooks";

export type WebhookOutcome =
  | { kind: "delivered"; status: number }
  /** Worth another try: network error, timeout, DNS failure, 408, 429, 5xx, a redirect. */
  | { kind: "retry"; reason: string }
  /** The receiver refused the message itself (4xx): retrying cannot help. */
  | { kind: "rejected"; status: number }
  /** 410 Gone: the receiver asks us to stop sending (Standard Webhooks). */
  | { kind: "gone" }
  /** The URL, or an address its host resolves to, is not one webhooks may reach: nothing sent. */
  | { kind: "refused"; reason: string };

class DeliveryTimeout extends Error {}

/**
 * One signed POST of a webhook message. The URL is checked again here (the rule may have changed
 * since it was stored), its host resolved once with `lookup`, every address checked, and the
 * connection made to those addresses only, with the name kept for Host and TLS (SNI and the
 * certificate). Redirects are never followed. The body is the same bytes on every retry; the
 * timestamp (and so the signature) is the attempt's, so receivers can refuse stale replays.
 */
export async function deliverWebhook(input: {
  url: string;
  secret: string;
  job: NotifyWebhookJob;
  timeoutMs: number;
  /** WEBHOOK_ALLOW_LOCAL_URLS. */
  allowLocal: boolean;
  /** Resolves the host; the machine's resolver unless a test injects one. */
  lookup?: HostLookup;
  now?: Date;
}): Promise<WebhookOutcome> {
  const body = JSON.stringify(input.job.payload);
  return postCheckedJson({
    ...input,
    body: () => {
      const timestamp = Math.floor((input.now ?? new Date()).getTime() / 1000);
      const signature = signWebhook({
        secret: input.secret,
        id: input.job.messageId,
        timestamp,
        body,
      });
      return {
        body,
        headers: {
          "webhook-id": input.job.messageId,
          "webhook-timestamp": String(timestamp),
          "webhook-signature": signature,
        },
      };
    },
  });
}

/**
 * A JSON POST to a URL under the webhook address rule (the org webhook, an alert's
 * Slack-compatible incoming webhook): checked, resolved once, connected to checked addresses
 * only, no redirect followed, one time limit for all of it. `body` is called once the target is
 * checked (a signature is then the attempt's). Outcomes as `WebhookOutcome`.
 */
export async function postCheckedJson(input: {
  url: string;
  body: () => { body: string; headers: Record<string, string> };
  timeoutMs: number;
  allowLocal: boolean;
  lookup?: HostLookup;
  userAgent?: string;
}): Promise<WebhookOutcome> {
  // One limit for the whole delivery, DNS included (a lookup cannot be cancelled: it is raced).
  const abort = new AbortController();
  const timer = setTimeout(() => abort.abort(), input.timeoutMs);
  const timedOut = new Promise<never>((_, reject) => {
    abort.signal.addEventListener("abort", () => reject(new DeliveryTimeout()), { once: true });
  });
  try {
    const target = await Promise.race([
      resolveWebhookTarget(
        input.url,
        { allowLocal: input.allowLocal },
        input.lookup ?? systemHostLookup,
      ),
      timedOut,
    ]);
    if (target.kind === "refused") return { kind: "refused", reason: target.message };
    if (target.kind === "unresolved") return { kind: "retry", reason: target.message };
    const { body, headers } = input.body();
    const status = await Promise.race([
      post(
        target,
        body,
        { ...headers, "user-agent": input.userAgent ?? "auditlog-webhooks/1" },
        abort.signal,
      ),
      timedOut,
    ]);
    if (status >= 200 && status < 300) return { kind: "delivered", status };
    if (status === 410) return { kind: "gone" };
    if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
      return { kind: "rejected", status };
    }
    return { kind: "retry", reason: `receiver answered ${status}` };
  } catch (error) {
    if (error instanceof DeliveryTimeout) {
      return { kind: "retry", reason: `no answer within ${input.timeoutMs} ms` };
    }
    return { kind: "retry", reason: `request failed: ${(error as Error).message}` };
  } finally {
    clearTimeout(timer);
  }
}

/** Sends the POST to one of `addresses`; answers the status (the body is not read). */
function post(
  target: { url: URL; host: string; addresses: readonly ResolvedAddress[] },
  body: string,
  headers: Record<string, string>,
  signal: AbortSignal,
): Promise<number> {
  const request = target.url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<number>((resolve, reject) => {
    const req = request(
      // A connection of its own: a pooled one could have been opened under another answer.
      checkedPostOptions(target, {
        headers: {
          "content-type": "application/json",
          "content-length": Buffer.byteLength(body),
          ...headers,
        },
        agent: false,
        signal,
      }),
      (res: IncomingMessage) => {
        // Only the status matters; do not let a large or slow body hold the connection.
        res.destroy();
        resolve(res.statusCode ?? 0);
      },
    );
    req.on("error", reject);
    req.end(body);
  });
}
