import type { RetentionSettings, RetentionUpdate } from "@auditlog/events";
import type { ApiActor } from "../audit-log/record-api-action.ts";
import { readRetention, updateRetention } from "../retention/retention-service.ts";
import type { Services } from "../services.ts";

export const retentionUsage = `  pnpm auditlog retention show --org <slug> [--json]
  pnpm auditlog retention set --org <slug> --days <n> [--json]
  pnpm auditlog legal-hold on|off --org <slug> --reason <text> [--json]`;

type Org = { id: string; slug: string; name: string; plan: string };

/** One line an operator reads: what is kept, for how long, and whether a hold stops purges. */
export function describeRetention(slug: string, settings: RetentionSettings): string {
  const { days, planDefault, bounds, legalHold, legalHoldReason, retainedFrom } = settings;
  const lines = [
    `${slug}: entries are kept ${days} days${planDefault ? " (the plan's default)" : ""}; the plan allows ${bounds.minDays}–${bounds.maxDays} days (default ${bounds.defaultDays})`,
    legalHold
      ? `legal hold: on (${legalHoldReason ?? "no reason given"}); nothing is purged while it is on`
      : "legal hold: off",
    retainedFrom > 1
      ? `the log starts at entry #${retainedFrom}; entries before it were purged`
      : "no entry has been purged",
  ];
  return lines.join("\n");
}

export function showRetention(services: Pick<Services, "db" | "env">, org: Org) {
  return readRetention(services, org);
}

/** `retention set` and `legal-hold on|off`: recorded in the organisation's log as the CLI. */
export async function changeRetention(
  services: Parameters<typeof updateRetention>[0],
  org: Org,
  update: RetentionUpdate,
  actor: ApiActor,
) {
  return updateRetention(services, { org, update, actor, client: {} });
}
