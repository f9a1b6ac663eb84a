import type { HostLookup } from "@auditlog/events/webhooks";
import { postCheckedJson, type WebhookOutcome } from "./deliver-webhook.ts";

/**
 * One message to a Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat …): a POST
 * of `{"text": "…"}` as `application/json`, as Slack documents incoming webhooks. The URL is
 * under the webhook address rule, checked again at every attempt (connect to checked addresses
 * only, no redirect). The URL is a secret: nothing this returns names it, or an address.
 */
export async function deliverSlack(input: {
  url: string;
  text: string;
  timeoutMs: number;
  allowLocal: boolean;
  lookup?: HostLookup;
}): Promise<WebhookOutcome> {
  const outcome = await postCheckedJson({
    url: input.url,
    body: () => ({ body: JSON.stringify({ text: input.text }), headers: {} }),
    timeoutMs: input.timeoutMs,
    allowLocal: input.allowLocal,
    ...(input.lookup ? { lookup: input.lookup } : {}),
    userAgent: "auditlog-alerts/1",
  });
  if (outcome.kind === "retry" || outcome.kind === "refused") {
    return { kind: outcome.kind, reason: withoutAddresses(outcome.reason) };
  }
  return outcome;
}

/** A network error's message names the address it tried ("connect ECONNREFUSED 10.0.0.7:443"). */
export function withoutAddresses(text: string): string {
  return text
    .replace(/\b\d{1,3}(\.\d{1,3}){3}(:\d+)?\b/g, "[address]")
    .replace(/\[?\b[0-9a-f]{0,4}(:[0-9a-f]{0,4}){2,7}\]?(:\d+)?/gi, "[address]")
    .replace(/https?:\/\/\S+/gi, "[url]");
}
