import type { AlertFiring, AlertRuleRow } from "@auditlog/db";
import type { AlertFiredWebhookPayload } from "@auditlog/events/jobs";

/**
 * The words of an alert, one rendering per channel: the console notification (title, body,
 * link), the org webhook's `alert.fired` payload and the Slack text (mrkdwn). They hold the
 * rule's name and query and the first entry's type and description, never an IP address, an
 * entry's data or a secret.
 */

/** The console path of the rule's filtered log (the audit log page reads `q`). */
export function alertLink(orgSlug: string, query: string): string {
  const search = new URLSearchParams({ q: query }).toString();
  return `/orgs/${encodeURIComponent(orgSlug)}/audit-logs?${search}`;
}

function matches(n: number): string {
  return `${n.toLocaleString("en-US")} ${n === 1 ? "match" : "matches"}`;
}

export interface RenderedAlert {
  title: string;
  body: string;
  link: string;
  slackText: string;
  webhookPayload: AlertFiredWebhookPayload;
}

/** Slack's mrkdwn escapes: `&`, `<` and `>` would otherwise start a link or an entity. */
function mrkdwn(text: string): string {
  return text.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

export function renderAlert(input: {
  rule: Pick<AlertRuleRow, "id" | "name" | "query">;
  orgSlug: string;
  firing: AlertFiring;
  /** Where the console is served (PUBLIC_URL), to make the Slack link absolute; "" for none. */
  consoleUrl: string;
  now: Date;
}): RenderedAlert {
  const { rule, firing, orgSlug } = input;
  const link = alertLink(orgSlug, rule.query);
  const entry = firing.entry;
  const title = `Alert: ${rule.name}`;
  const body =
    firing.kind === "first" && entry
      ? `${entry.type}: ${entry.description}`
      : `${firing.matched.toLocaleString("en-US")} more ${firing.matched === 1 ? "match" : "matches"} of ${rule.name} (${rule.query})`;
  const href = `${input.consoleUrl}${link}`;
  const linkText =
    firing.kind === "first" ? "Open the filtered log" : `See the ${matches(firing.matched)}`;
  // An absolute link is a link in Slack; without PUBLIC_URL the path is shown as text.
  const slackLink = input.consoleUrl ? `<${href}|${linkText}>` : `${linkText}: ${link}`;
  const slackText = `*${mrkdwn(title)}* in ${mrkdwn(orgSlug)}: ${mrkdwn(body)}\n${slackLink}`;
  return {
    title,
    body,
    link,
    slackText: slackText.slice(0, 4000),
    webhookPayload: {
      type: "alert.fired",
      timestamp: input.now.toISOString(),
      data: {
        ruleId: rule.id,
        ruleName: rule.name,
        org: orgSlug,
        q: rule.query,
        matched: firing.matched,
        grouped: firing.kind === "more",
        entry: entry
          ? {
              id: entry.id,
              seq: entry.seq,
              type: entry.type,
              description: entry.description,
              occurredAt: entry.occurredAt.toISOString(),
            }
          : null,
        link,
      },
    },
  };
}
