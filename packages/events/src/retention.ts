import { z } from "zod";

// Data lifecycle (issue 16): how long an organisation's audit log is kept. Each plan that has an
// audit log has a default and a maximum, set per deployment; an organisation chooses its own
// retention within [minimum, its plan's maximum]. Age is counted from when an entry was stored.

/** The plans whose organisations have an audit log, and so a retention. */
export const retentionPlans = ["team", "enterprise"] as const;
export type RetentionPlan = (typeof retentionPlans)[number];

export const MIN_RETENTION_DAYS = 1;
/** Seven years, the longest any plan may allow. */
export const MAX_RETENTION_DAYS = 2557;

const days = z.coerce.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS);

/**
 * The deployment settings of retention, spread into each app's env schema (API and worker read
 * the same variables, so both apply the same bounds).
 */
export const retentionEnv = {
  RETENTION_TEAM_DEFAULT_DAYS: days.default(180),
  RETENTION_TEAM_MAX_DAYS: days.default(180),
  RETENTION_ENTERPRISE_DEFAULT_DAYS: days.default(365),
  RETENTION_ENTERPRISE_MAX_DAYS: days.default(MAX_RETENTION_DAYS),
};

export type RetentionBounds = Record<RetentionPlan, { defaultDays: number; maxDays: number }>;

type RetentionEnv = { [K in keyof typeof retentionEnv]: number };

/** The bounds of each plan, from the parsed env; a default above its maximum is refused. */
export function retentionBoundsFromEnv(env: RetentionEnv): RetentionBounds {
  const bounds: RetentionBounds = {
    team: { defaultDays: env.RETENTION_TEAM_DEFAULT_DAYS, maxDays: env.RETENTION_TEAM_MAX_DAYS },
    enterprise: {
      defaultDays: env.RETENTION_ENTERPRISE_DEFAULT_DAYS,
      maxDays: env.RETENTION_ENTERPRISE_MAX_DAYS,
    },
  };
  for (const plan of retentionPlans) {
    if (bounds[plan].defaultDays > bounds[plan].maxDays) {
      throw new Error(
        `RETENTION_${plan.toUpperCase()}_DEFAULT_DAYS (${bounds[plan].defaultDays}) is above RETENTION_${plan.toUpperCase()}_MAX_DAYS (${bounds[plan].maxDays})`,
      );
    }
  }
  return bounds;
}

export function isRetentionPlan(plan: string): plan is RetentionPlan {
  return (retentionPlans as readonly string[]).includes(plan);
}

/**
 * The retention an organisation's entries are kept for: its own choice (clamped to its plan's
 * maximum, which a downgrade may have lowered) or its plan's default; null for a plan without an
 * audit log (nothing to keep, nothing to purge).
 */
export function effectiveRetentionDays(
  plan: string,
  chosenDays: number | null,
  bounds: RetentionBounds,
): number | null {
  if (!isRetentionPlan(plan)) return null;
  const { defaultDays, maxDays } = bounds[plan];
  return Math.min(chosenDays ?? defaultDays, maxDays);
}

/** `PUT /v1/orgs/:org/retention`: either field may be sent alone. */
export const retentionUpdateSchema = z
  .strictObject({
    /** null: follow the plan's default again (and its changes). */
    days: z.number().int().min(MIN_RETENTION_DAYS).max(MAX_RETENTION_DAYS).nullable().optional(),
    legalHold: z.boolean().optional(),
    /** Why a legal hold is placed or lifted; kept, and recorded in the log. */
    reason: z.string().trim().min(1).max(500).optional(),
  })
  .refine((body) => body.days !== undefined || body.legalHold !== undefined, {
    message: "send days, legalHold or both",
  });
export type RetentionUpdate = z.infer<typeof retentionUpdateSchema>;

/** `GET /v1/orgs/:org/retention`. */
export const retentionSettingsSchema = z.object({
  /** The retention in force, in days. */
  days: z.number().int(),
  /** True when the organisation chose none and follows its plan's default. */
  planDefault: z.boolean(),
  bounds: z.object({
    minDays: z.number().int(),
    maxDays: z.number().int(),
    defaultDays: z.number().int(),
  }),
  legalHold: z.boolean(),
  legalHoldReason: z.string().nullable(),
  /** The first `seq` still held (entries before it were purged); 1 when nothing was. */
  retainedFrom: z.number().int(),
});
export type RetentionSettings = z.infer<typeof retentionSettingsSchema>;
