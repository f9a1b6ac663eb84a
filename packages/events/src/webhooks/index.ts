export { checkedLookup, checkedPostOptions } from "./checked-lookup.ts";
export { signWebhook, webhookSecretBytes, webhookSecretPrefix } from "./webhook-signature.ts";
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
