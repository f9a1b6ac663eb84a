/**
 * Catalog types that the Hub's export schema does not list (its `type` enum). The
 * Hub-compatible export leaves them out so that every item validates against that schema.
 */
export const nonHubEventTypes = [
  "org.audit_log.export",
  "org.audit_log.download",
  "billing.update_subscription_contract_details",
] as const;
