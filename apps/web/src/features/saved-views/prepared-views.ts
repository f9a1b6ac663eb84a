/**
 * Built-in views: filters in the query language (types of the shared catalog; `scope.*` selects
 * every type under a scope). Each `q` is checked against the catalog by prepared-views.test.ts.
 */
export interface PreparedView {
  id: string;
  name: string;
  description: string;
  q: string;
}

export const preparedViews: readonly PreparedView[] = [
  {
    id: "security",
    name: "Security",
    description: "SSO, two-factor, network and token-approval settings, SSO sign-ins",
    q: [
      "type:org.settings.security.*",
      "type:org.settings.sso",
      "type:org.settings.sso.*",
      "type:org.settings.network",
      "type:org.settings.network.*",
      "type:org.token_approval.*",
      "type:org.sso_login",
      "type:org.sso_join",
    ].join(" "),
  },
  {
    id: "membership",
    name: "Membership",
    description: "Invitations, joins, role changes and removals",
    q: "category:membership",
  },
  {
    id: "tokens",
    name: "Tokens",
    description: "Service-account tokens, token rotation and approval, provider keys",
    q: [
      "type:org.service_account.token.*",
      "type:org.rotate_token",
      "type:org.token_approval.*",
      "type:org.settings.inference_providers.keys.*",
    ].join(" "),
  },
];
