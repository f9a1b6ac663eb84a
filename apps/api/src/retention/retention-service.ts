import {
  getOrgRetentionSettings,
  planLacksAuditLogs,
  type StoredRetentionSettings,
  updateOrgRetentionSettings,
} from "@auditlog/db";
import {
  type AuditEventInput,
  effectiveRetentionDays,
  isRetentionPlan,
  MIN_RETENTION_DAYS,
  type RetentionBounds,
  type RetentionSettings,
  type RetentionUpdate,
  retentionBoundsFromEnv,
} from "@auditlog/events";
import {
  type ApiActor,
  type ApiClient,
  orgTarget,
  recordApiActions,
} from "../audit-log/record-api-action.ts";
import type { ApiEnv } from "../env.ts";
import { ApiError } from "../errors.ts";
import type { Services } from "../services.ts";

type RetentionServices = Pick<Services, "db" | "jobs" | "redis" | "env" | "logger">;

interface OrgRef {
  id: string;
  slug: string;
  name: string;
  plan: string;
}

/** The deployment's bounds per plan (env.ts has already refused a default above its maximum). */
export function retentionBounds(env: ApiEnv): RetentionBounds {
  return retentionBoundsFromEnv(env);
}

/** A plan without an audit log has no retention: the same refusal as every audit-log route. */
function planBounds(org: OrgRef, bounds: RetentionBounds) {
  if (!isRetentionPlan(org.plan)) throw new ApiError("forbidden", planLacksAuditLogs(org));
  return bounds[org.plan];
}

function publicSettings(
  org: OrgRef,
  stored: StoredRetentionSettings,
  bounds: RetentionBounds,
): RetentionSettings {
  const { defaultDays, maxDays } = planBounds(org, bounds);
  return {
    days: effectiveRetentionDays(org.plan, stored.days, bounds) ?? defaultDays,
    planDefault: stored.days === null,
    bounds: { minDays: MIN_RETENTION_DAYS, maxDays, defaultDays },
    legalHold: stored.legalHold,
    legalHoldReason: stored.legalHoldReason,
    retainedFrom: stored.retainedFrom,
  };
}

/** What `days` must be on this organisation's plan, for the 400 that names the bounds. */
export function daysOutOfBounds(org: OrgRef, bounds: RetentionBounds): ApiError {
  const { maxDays } = planBounds(org, bounds);
  const message = `must be a whole number of days from ${MIN_RETENTION_DAYS} to ${maxDays} (the ${org.plan} plan's maximum)`;
  return new ApiError("validation_failed", `invalid request body: days ${message}`, [
    { path: "days", message },
  ]);
}

export async function readRetention(
  services: Pick<Services, "db" | "env">,
  org: OrgRef,
): Promise<RetentionSettings> {
  const bounds = retentionBounds(services.env);
  planBounds(org, bounds);
  return publicSettings(org, await getOrgRetentionSettings(services.db, org.id), bounds);
}

/**
 * Changes an organisation's retention and/or legal hold. Each change is recorded in the
 * organisation's own log (`org.audit_log.retention.update`, `org.audit_log.legal_hold.enable` /
 * `.disable`) before it is committed: a change that cannot be recorded is not made (503). A value
 * already in force changes and records nothing. Placing or lifting a hold needs a reason.
 */
export async function updateRetention(
  services: RetentionServices,
  input: { org: OrgRef; update: RetentionUpdate; actor: ApiActor; client: ApiClient },
): Promise<{ settings: RetentionSettings; recorded: string[] }> {
  const { org, update } = input;
  const bounds = retentionBounds(services.env);
  const { maxDays } = planBounds(org, bounds);
  if (
    typeof update.days === "number" &&
    (update.days < MIN_RETENTION_DAYS || update.days > maxDays)
  ) {
    throw daysOutOfBounds(org, bounds);
  }
  if (update.reason !== undefined && update.legalHold === undefined) {
    throw new ApiError(
      "validation_failed",
      "invalid request body: reason goes with legalHold (the reason a hold is placed or lifted)",
      [{ path: "reason", message: "send legalHold with it" }],
    );
  }
  const recorded: string[] = [];
  const change = await updateOrgRetentionSettings(
    services.db,
    { orgId: org.id, days: update.days, legalHold: update.legalHold, reason: update.reason },
    async ({ before, after, daysChanged, legalHoldChanged }) => {
      if (legalHoldChanged && !update.reason) {
        const what = after.legalHold ? "place" : "lift";
        throw new ApiError(
          "validation_failed",
          `invalid request body: reason is required to ${what} a legal hold`,
          [{ path: "reason", message: `is required to ${what} a legal hold` }],
        );
      }
      const events: Pick<AuditEventInput, "type" | "data" | "target">[] = [];
      if (daysChanged) {
        events.push({
          type: "org.audit_log.retention.update",
          target: orgTarget(org),
          data: {
            from: effectiveRetentionDays(org.plan, before.days, bounds),
            to: effectiveRetentionDays(org.plan, after.days, bounds) ?? maxDays,
            ...(after.days === null ? { planDefault: true } : {}),
          },
        });
      }
      if (legalHoldChanged) {
        events.push({
          type: after.legalHold
            ? "org.audit_log.legal_hold.enable"
            : "org.audit_log.legal_hold.disable",
          target: orgTarget(org),
          data: { reason: update.reason },
        });
      }
      try {
        await recordApiActions(services, {
          orgId: org.id,
          actor: input.actor,
          client: input.client,
          events,
        });
      } catch {
        throw new ApiError(
          "service_unavailable",
          "the change could not be recorded in the audit log, so nothing was changed; retry later",
        );
      }
      recorded.push(...events.map((event) => event.type));
    },
  );
  return { settings: publicSettings(org, change.after, bounds), recorded };
}
