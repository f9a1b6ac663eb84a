import { z } from "zod";

/**
 * Alert rules (issue 17): a query over new entries, and the channels told when one matches.
 * Shared by the API, the worker, the CLI and the console.
 */

const name = z
  .string({ error: "is required" })
  .trim()
  .min(1, "must not be empty")
  .max(100, "must be at most 100 characters");

/** Where an alert goes. The Slack-compatible incoming-webhook URL is a secret: sealed at rest. */
export const alertChannelsInputSchema = z.strictObject({
  /** Every admin of the organisation: the console's bell and the live stream (SSE). */
  console: z.boolean().default(true),
  /** Every admin, by email (when the deployment has SMTP). */
  email: z.boolean().default(false),
  /** The organisation's webhook (Standard Webhooks), event type `alert.fired`. */
  webhook: z.boolean().default(false),
  /** A Slack-compatible incoming webhook (Slack, Mattermost, Rocket.Chat …); null removes it. */
  slackUrl: z.string().max(2000, "must be at most 2,000 characters").nullable().optional(),
});

/** `POST /v1/orgs/:org/alerts`. */
export const createAlertRuleSchema = z.strictObject({
  name,
  /** The query language, as the log's search box (`type:org.sso.* -author:scim-bot`). */
  q: z
    .string({ error: "is required" })
    .min(1, "must not be empty")
    .max(2000, "must be at most 2,000 characters"),
  channels: alertChannelsInputSchema.default({ console: true, email: false, webhook: false }),
  /** After a message, further matches within this many seconds are grouped into one. */
  groupWindowSeconds: z.number().int().min(0).max(86_400).default(300),
  enabled: z.boolean().default(true),
});
export type CreateAlertRule = z.infer<typeof createAlertRuleSchema>;

/** `PATCH /v1/orgs/:org/alerts/:id`: any field of a rule. */
export const updateAlertRuleSchema = z.strictObject({
  name: name.optional(),
  q: z
    .string()
    .min(1, "must not be empty")
    .max(2000, "must be at most 2,000 characters")
    .optional(),
  // Not `alertChannelsInputSchema.partial()`: its defaults would still fill in an omitted
  // channel, turning off (email, webhook) or on (console) what the change did not mention.
  channels: z
    .strictObject({
      console: z.boolean().optional(),
      email: z.boolean().optional(),
      webhook: z.boolean().optional(),
      slackUrl: z.string().max(2000, "must be at most 2,000 characters").nullable().optional(),
    })
    .optional(),
  groupWindowSeconds: z.number().int().min(0).max(86_400).optional(),
  enabled: z.boolean().optional(),
});
export type UpdateAlertRule = z.infer<typeof updateAlertRuleSchema>;

/** A rule as the API answers it (the Slack URL only as its last four characters). */
export const alertRuleSchema = z.object({
  id: z.string(),
  name: z.string(),
  q: z.string(),
  enabled: z.boolean(),
  channels: z.object({
    console: z.boolean(),
    email: z.boolean(),
    webhook: z.boolean(),
    slackUrlHint: z.string().nullable(),
  }),
  groupWindowSeconds: z.number().int(),
  lastFiredAt: z.iso.datetime().nullable(),
  createdAt: z.iso.datetime(),
  updatedAt: z.iso.datetime(),
});
export type AlertRule = z.infer<typeof alertRuleSchema>;

export const alertRuleListSchema = z.object({ alerts: z.array(alertRuleSchema) });
export type AlertRuleList = z.infer<typeof alertRuleListSchema>;
