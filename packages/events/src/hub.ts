/**
 * Catalog types that the Hub's export schema does not list (its `type` enum). The
 * Hub-compatible export leaves them out so that every item validates against that schema.
 */
export const nonHubEventTypes = [
  "org.audit_log.export",
  "org.audit_log.download",
  "org.audit_log.retention.update",
  "org.audit_log.legal_hold.enable",
  "org.audit_log.legal_hold.disable",
  "org.audit_log.purge",
  "org.audit_log.erase",
  "org.audit_log.stream.create",
  "org.audit_log.stream.update",
  "org.audit_log.stream.delete",
  "org.audit_log.alert.create",
  "org.audit_log.alert.update",
  "org.audit_log.alert.delete",
  "org.audit_log.viewer_link.create",
  "org.audit_log.viewer_link.revoke",
  "org.audit_log.viewer_link.use",
  "billing.update_subscription_contract_details",
  "org.sso_break_glass",
] as const;
