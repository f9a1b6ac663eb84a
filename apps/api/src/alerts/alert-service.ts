import {
  type AlertRuleChanges,
  type AlertRuleRow,
  createAlertRule,
  deleteAlertRule,
  findAlertRule,
  listAlertRules,
  maxAlertRulesPerOrg,
  secretHint,
  updateAlertRule,
} from "@auditlog/db";
import {
  type AlertRule,
  type CreateAlertRule,
  parseQuery,
  storedQueryLimits,
  type UpdateAlertRule,
} from "@auditlog/events";
import { resolveWebhookTarget } from "@auditlog/events/webhooks";
import {
  type ApiActor,
  type ApiClient,
  orgTarget,
  recordApiAction,
} from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import type { Services } from "../services.ts";

export type AlertServices = Pick<
  Services,
  "db" | "jobs" | "redis" | "env" | "logger" | "secrets" | "lookupHost"
>;

interface OrgRef {
  id: string;
  slug: string;
  name: string;
}

/** A rule as the API answers it: the Slack URL only as its last four characters. */
export function publicAlertRule(rule: AlertRuleRow): AlertRule {
  return {
    id: rule.id,
    name: rule.name,
    q: rule.query,
    enabled: rule.enabled,
    channels: {
      console: rule.notifyConsole,
      email: rule.notifyEmail,
      webhook: rule.notifyWebhook,
      slackUrlHint: rule.slackUrlHint,
    },
    groupWindowSeconds: rule.groupWindowSeconds,
    lastFiredAt: rule.lastFiredAt ? rule.lastFiredAt.toISOString() : null,
    createdAt: rule.createdAt.toISOString(),
    updatedAt: rule.updatedAt.toISOString(),
  };
}

/** `q` must parse as the log's search box parses it; the 400 names `q` as the list API does. */
function checkQuery(q: string): string {
  const parsed = parseQuery(q, { limits: storedQueryLimits });
  if (!parsed.ok) {
    const message = `${parsed.error.message} at position ${parsed.error.position}`;
    throw new ApiError("validation_failed", `invalid request body: q ${message}`, [
      { path: "q", message, position: parsed.error.position, token: parsed.error.token },
    ]);
  }
  return q;
}

/**
 * The Slack-compatible incoming-webhook URL, checked by the webhook address rule (no internal
 * address, its host resolved once) and sealed. The message names the field, never the URL.
 */
async function sealSlackUrl(
  services: AlertServices,
  url: string,
): Promise<{ sealed: string; hint: string }> {
  const target = await resolveWebhookTarget(
    url.trim(),
    { allowLocal: services.env.WEBHOOK_ALLOW_LOCAL_URLS },
    services.lookupHost,
  );
  if (target.kind === "refused") {
    throw new ApiError(
      "validation_failed",
      `invalid request body: channels.slackUrl ${target.message}`,
      [{ path: "channels.slackUrl", message: target.message }],
    );
  }
  const href = target.url.href;
  return { sealed: services.secrets.seal(href), hint: secretHint(href) };
}

function notFound(): ApiError {
  return new ApiError("not_found", "alert rule not found");
}

export async function listOrgAlertRules(services: AlertServices, org: OrgRef) {
  return (await listAlertRules(services.db, org.id)).map(publicAlertRule);
}

export async function getOrgAlertRule(services: AlertServices, org: OrgRef, id: string) {
  const rule = await findAlertRule(services.db, { orgId: org.id, id });
  if (!rule) throw notFound();
  return publicAlertRule(rule);
}

/**
 * Creates a rule (recorded as `org.audit_log.alert.create` before it is committed; never with
 * the Slack URL). 409 when the organisation has `maxAlertRulesPerOrg` rules.
 */
export async function createOrgAlertRule(
  services: AlertServices,
  input: { org: OrgRef; rule: CreateAlertRule; actor: ApiActor; client: ApiClient },
): Promise<AlertRule> {
  const { org, rule } = input;
  const query = checkQuery(rule.q);
  const slack = rule.channels.slackUrl
    ? await sealSlackUrl(services, rule.channels.slackUrl)
    : null;
  const created = await createAlertRule(
    services.db,
    {
      orgId: org.id,
      name: rule.name,
      query,
      enabled: rule.enabled,
      notifyConsole: rule.channels.console,
      notifyEmail: rule.channels.email,
      notifyWebhook: rule.channels.webhook,
      slackUrlSealed: slack?.sealed ?? null,
      slackUrlHint: slack?.hint ?? null,
      groupWindowSeconds: rule.groupWindowSeconds,
      createdBy: input.actor.id,
    },
    (row) =>
      recordApiAction(services, {
        orgId: org.id,
        actor: input.actor,
        client: input.client,
        event: {
          type: "org.audit_log.alert.create",
          target: orgTarget(org),
          data: { alertId: row.id, name: row.name, q: row.query },
        },
      }),
  );
  if (!created) {
    throw new ApiError(
      "conflict",
      `${org.slug} has ${maxAlertRulesPerOrg} alert rules, the most an organization may have; delete one first`,
    );
  }
  return publicAlertRule(created);
}

/** Which public fields a change touched (the entry lists them, never a value of the URL). */
function changedFields(before: AlertRuleRow, after: AlertRuleRow, slackTouched: boolean) {
  const changed: string[] = [];
  if (before.name !== after.name) changed.push("name");
  if (before.query !== after.query) changed.push("q");
  if (before.enabled !== after.enabled) changed.push("enabled");
  if (before.notifyConsole !== after.notifyConsole) changed.push("channels.console");
  if (before.notifyEmail !== after.notifyEmail) changed.push("channels.email");
  if (before.notifyWebhook !== after.notifyWebhook) changed.push("channels.webhook");
  if (slackTouched) changed.push("channels.slackUrl");
  if (before.groupWindowSeconds !== after.groupWindowSeconds) changed.push("groupWindowSeconds");
  return changed;
}

export async function updateOrgAlertRule(
  services: AlertServices,
  input: { org: OrgRef; id: string; update: UpdateAlertRule; actor: ApiActor; client: ApiClient },
): Promise<AlertRule> {
  const { org, update } = input;
  const changes: AlertRuleChanges = {};
  if (update.name !== undefined) changes.name = update.name;
  if (update.q !== undefined) changes.query = checkQuery(update.q);
  if (update.enabled !== undefined) changes.enabled = update.enabled;
  if (update.groupWindowSeconds !== undefined) {
    changes.groupWindowSeconds = update.groupWindowSeconds;
  }
  const channels = update.channels ?? {};
  if (channels.console !== undefined) changes.notifyConsole = channels.console;
  if (channels.email !== undefined) changes.notifyEmail = channels.email;
  if (channels.webhook !== undefined) changes.notifyWebhook = channels.webhook;
  if (channels.slackUrl === null) changes.slackUrl = { sealed: null, hint: null };
  else if (channels.slackUrl !== undefined) {
    changes.slackUrl = await sealSlackUrl(services, channels.slackUrl);
  }
  const result = await updateAlertRule(
    services.db,
    { orgId: org.id, id: input.id, changes },
    async (before, after) => {
      const slackTouched =
        changes.slackUrl !== undefined &&
        (changes.slackUrl.sealed !== null || before.slackUrlSealed !== null);
      const changed = changedFields(before, after, slackTouched);
      if (changed.length === 0) return;
      await recordApiAction(services, {
        orgId: org.id,
        actor: input.actor,
        client: input.client,
        event: {
          type: "org.audit_log.alert.update",
          target: orgTarget(org),
          data: {
            alertId: after.id,
            name: after.name,
            ...(changed.includes("q") ? { q: after.query } : {}),
            changed,
          },
        },
      });
    },
  );
  if (!result) throw notFound();
  return publicAlertRule(result.after);
}

export async function deleteOrgAlertRule(
  services: AlertServices,
  input: { org: OrgRef; id: string; actor: ApiActor; client: ApiClient },
): Promise<void> {
  const deleted = await deleteAlertRule(
    services.db,
    { orgId: input.org.id, id: input.id },
    (rule) =>
      recordApiAction(services, {
        orgId: input.org.id,
        actor: input.actor,
        client: input.client,
        event: {
          type: "org.audit_log.alert.delete",
          target: orgTarget(input.org),
          data: { alertId: rule.id, name: rule.name },
        },
      }),
  );
  if (!deleted) throw notFound();
}
