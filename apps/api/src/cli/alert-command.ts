import { type AlertRule, type CreateAlertRule, createAlertRuleSchema } from "@auditlog/events";
import {
  type AlertServices,
  createOrgAlertRule,
  deleteOrgAlertRule,
  listOrgAlertRules,
} from "../alerts/alert-service.ts";
import type { ApiActor } from "../audit-log/record-api-action.ts";
import { ApiError } from "../errors.ts";
import { CliFlagError } from "./cli-flag-error.ts";
import { readSecretFlag, secretFlagHint } from "./secret-flags.ts";

export const alertUsage = `  pnpm auditlog alerts create --org <slug> --name <name> --q <query> [--no-console]
      [--notify-email] [--notify-webhook] [--slack-url-file <path> | --slack-url-stdin]
      [--group-window <seconds>] [--json]
  pnpm auditlog alerts list --org <slug> [--json]
  pnpm auditlog alerts delete --org <slug> <id> [--json]`;

/** The options `alerts create` reads (parseArgs values). */
export interface AlertFlags {
  name?: string;
  q?: string;
  "no-console"?: boolean;
  "notify-email"?: boolean;
  "notify-webhook"?: boolean;
  "slack-url-file"?: string;
  "slack-url-stdin"?: boolean;
  "group-window"?: string;
}

type Org = { id: string; slug: string; name: string };

/** A Slack incoming-webhook URL carries its own credential: a secret flag (see secret-flags.ts). */
export const alertSecretFlags = ["slack-url"] as const;

/** The flag an API field comes from: `channels.slackUrl` → `--slack-url-file or --slack-url-stdin`. */
function flagOf(path: string): string {
  if (path === "groupWindowSeconds") return "--group-window";
  if (path === "channels.console") return "--no-console";
  if (path === "channels.email") return "--notify-email";
  if (path === "channels.webhook") return "--notify-webhook";
  if (path === "channels.slackUrl") return secretFlagHint("slack-url");
  const field = path.split(".").at(-1) ?? path;
  return `--${field.replace(/[A-Z]/g, (letter) => `-${letter.toLowerCase()}`)}`;
}

/** An API refusal naming a field, as the flag the operator gave (the same error as `stream`). */
function asFlagError(error: unknown): never {
  const detail = error instanceof ApiError && error.status === 400 ? error.details?.[0] : undefined;
  if (detail) throw new CliFlagError(`${flagOf(detail.path)} ${detail.message}`);
  throw error;
}

/** The create body the flags describe, checked by the API's own schema. */
export function alertBodyFromFlags(flags: AlertFlags, readStdin?: () => string): CreateAlertRule {
  if (!flags.name) throw new CliFlagError("missing --name");
  if (!flags.q) throw new CliFlagError("missing --q (the query new entries must match)");
  let groupWindowSeconds: number | undefined;
  if (flags["group-window"] !== undefined) {
    if (!/^\d{1,6}$/.test(flags["group-window"])) {
      throw new CliFlagError("--group-window must be a whole number of seconds");
    }
    groupWindowSeconds = Number(flags["group-window"]);
  }
  const slackUrl = readSecretFlag("slack-url", flags, readStdin);
  const parsed = createAlertRuleSchema.safeParse({
    name: flags.name,
    q: flags.q,
    channels: {
      console: !flags["no-console"],
      email: flags["notify-email"] === true,
      webhook: flags["notify-webhook"] === true,
      ...(slackUrl !== undefined ? { slackUrl } : {}),
    },
    ...(groupWindowSeconds !== undefined ? { groupWindowSeconds } : {}),
  });
  if (!parsed.success) {
    const issue = parsed.error.issues[0];
    throw new CliFlagError(
      `${flagOf(issue?.path.join(".") ?? "")} ${issue?.message ?? "is invalid"}`,
    );
  }
  return parsed.data;
}

/** One line an operator reads per rule; the Slack URL only as its last four characters. */
export function describeAlertRule(rule: AlertRule): string {
  const channels = [
    rule.channels.console ? "console" : null,
    rule.channels.email ? "email" : null,
    rule.channels.webhook ? "webhook" : null,
    rule.channels.slackUrlHint ? `slack …${rule.channels.slackUrlHint}` : null,
  ].filter((channel) => channel !== null);
  const fired = rule.lastFiredAt ? `last fired ${rule.lastFiredAt}` : "never fired";
  return `${rule.id}  ${rule.enabled ? "enabled" : "disabled"}  "${rule.name}"  q: ${rule.q}  to ${channels.join(", ") || "no channel"}  grouped over ${rule.groupWindowSeconds} s, ${fired}`;
}

/** `alerts …`: the same service as the API's routes, recorded with the CLI as the actor. */
export async function alertCommand(
  services: AlertServices,
  input: {
    action: string;
    org: Org;
    id?: string;
    flags: AlertFlags;
    actor: ApiActor;
    /** Where `--slack-url-stdin` reads from (tests give their own). */
    readStdin?: () => string;
  },
): Promise<{ json: Record<string, unknown>; text: string }> {
  const { org, actor } = input;
  switch (input.action) {
    case "create": {
      const rule = alertBodyFromFlags(input.flags, input.readStdin);
      const created = await createOrgAlertRule(services, {
        org,
        rule,
        actor,
        client: {},
      }).catch(asFlagError);
      return { json: { org: org.slug, ...created }, text: `created ${describeAlertRule(created)}` };
    }
    case "list": {
      const alerts = await listOrgAlertRules(services, org);
      return {
        json: { org: org.slug, alerts },
        text: alerts.map(describeAlertRule).join("\n") || `${org.slug} has no alert rules`,
      };
    }
    case "delete": {
      const id = input.id;
      if (!id) throw new CliFlagError("missing the rule id (alerts delete --org <slug> <id>)");
      await deleteOrgAlertRule(services, { org, id, actor, client: {} });
      return {
        json: { org: org.slug, id, deleted: true },
        text: `alert rule ${id} of ${org.slug} deleted`,
      };
    }
    default:
      throw new CliFlagError(`unknown command "alerts ${input.action}"`);
  }
}
