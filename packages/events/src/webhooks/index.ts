export {
  type HostLookup,
  maxWebhookUrlLength,
  type ResolvedAddress,
  refuseWebhookAddress,
  resolveWebhookTarget,
  systemHostLookup,
  validateWebhookUrl,
  type WebhookTarget,
  type WebhookTargetRule,
  webhookEnv,
} from "./webhook-target.ts";
