// Generated from the event catalog (packages/events) by scripts/generate-event-types.ts:
// do not edit. test/event-types.test.ts fails when it differs from the catalog.

/** Who acted. */
export type Actor = {
  type: "user" | "token" | "system";
  id: string;
  name: string;
  avatarUrl?: string;
  tokenRole?: "read" | "write" | "fineGrained";
  tokenLast4?: string;
};

/** What the action was done to. */
export type Target = {
  type: string;
  id: string;
  name?: string;
};

/** Where the action came from: the full IP address (the API stores it truncated). */
export type EventContext = {
  ip?: string;
  userAgent?: string;
  oauth?: {
    clientId: string;
    name?: string;
  };
};

/** The `data` object of each event type a service may record. */
export interface EventDataByType {
  /** Organization created (organization). */
  "org.create": {
    name: string;
    fullname?: string;
    plan?: string;
    [field: string]: unknown;
  };
  /** Organization deleted (organization). */
  "org.delete": {
    name?: string;
    [field: string]: unknown;
  };
  /** Organization restored (organization). */
  "org.restore": {
    name?: string;
    [field: string]: unknown;
  };
  /** Organization renamed (organization). */
  "org.rename": {
    from: string;
    to: string;
    [field: string]: unknown;
  };
  /** Settings updated (legacy) (organization). */
  "org.update_settings": {
    fields?: string[];
    [field: string]: unknown;
  };
  /** Profile updated (organization). */
  "org.settings.profile": {
    fields?: string[];
    [field: string]: unknown;
  };
  /** Storage regions changed (organization). */
  "org.settings.regions": {
    from?: string[];
    regions: string[];
    [field: string]: unknown;
  };
  /** Resource group settings updated (organization). */
  "org.settings.resource_groups": {
    enabled?: boolean;
    fields?: string[];
    [field: string]: unknown;
  };
  /** Publisher gating updated (organization). */
  "org.settings.publisher_gating": {
    enabled?: boolean;
    fields?: string[];
    [field: string]: unknown;
  };
  /** Inference providers updated (organization). */
  "org.settings.inference_providers": {
    enabled?: string[];
    disabled?: string[];
    [field: string]: unknown;
  };
  /** Inference provider key added (organization). */
  "org.settings.inference_providers.keys.add": {
    provider: string;
    keyName?: string;
  };
  /** Inference provider key removed (organization). */
  "org.settings.inference_providers.keys.remove": {
    provider: string;
    keyName?: string;
  };
  /** Inference usage settings updated (organization). */
  "org.settings.inference_providers.usage": {
    provider?: string;
    enabled?: boolean;
    fields?: string[];
    [field: string]: unknown;
  };
  /** SSO configuration updated (organization). */
  "org.settings.sso": {
    protocol?: "saml" | "oidc";
    fields?: string[];
    [field: string]: unknown;
  };
  /** SSO enabled (organization). */
  "org.settings.sso.enable": {
    protocol?: "saml" | "oidc";
    [field: string]: unknown;
  };
  /** SSO disabled (organization). */
  "org.settings.sso.disable": {
    protocol?: "saml" | "oidc";
    [field: string]: unknown;
  };
  /** Default repo visibility changed (organization). */
  "org.settings.security.repo_visibility": {
    from?: "public" | "private";
    to: "public" | "private";
    [field: string]: unknown;
  };
  /** 2FA requirement enabled (organization). */
  "org.settings.security.2fa.enable": {
    [field: string]: unknown;
  };
  /** 2FA requirement disabled (organization). */
  "org.settings.security.2fa.disable": {
    [field: string]: unknown;
  };
  /** Auto-join enabled (organization). */
  "org.settings.security.auto_join.enable": {
    domains?: string[];
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Auto-join disabled (organization). */
  "org.settings.security.auto_join.disable": {
    [field: string]: unknown;
  };
  /** Members privacy enabled (organization). */
  "org.settings.security.members_privacy.enable": {
    [field: string]: unknown;
  };
  /** Members privacy disabled (organization). */
  "org.settings.security.members_privacy.disable": {
    [field: string]: unknown;
  };
  /** Network settings updated (organization). */
  "org.settings.network": {
    fields?: string[];
    [field: string]: unknown;
  };
  /** IP restriction enabled (organization). */
  "org.settings.network.ip_restriction.enable": {
    ranges?: string[];
    [field: string]: unknown;
  };
  /** IP restriction disabled (organization). */
  "org.settings.network.ip_restriction.disable": {
    [field: string]: unknown;
  };
  /** Auth enforcement enabled (organization). */
  "org.settings.network.auth_enforcement.enable": {
    [field: string]: unknown;
  };
  /** Auth enforcement disabled (organization). */
  "org.settings.network.auth_enforcement.disable": {
    [field: string]: unknown;
  };
  /** Organization token rotated (organization). */
  "org.rotate_token": {
    tokenName?: string;
  };
  /** Token approval enabled (organization). */
  "org.token_approval.enabled": {
    [field: string]: unknown;
  };
  /** Token approval disabled (organization). */
  "org.token_approval.disabled": {
    [field: string]: unknown;
  };
  /** Token authorization requested (organization). */
  "org.token_approval.authorization_request": {
    tokenName?: string;
    permissions?: string[];
    [field: string]: unknown;
  };
  /** Token request approved (organization). */
  "org.token_approval.authorization_request.authorized": {
    user: string;
    tokenName?: string;
    [field: string]: unknown;
  };
  /** Token request denied (organization). */
  "org.token_approval.authorization_request.denied": {
    user: string;
    tokenName?: string;
    [field: string]: unknown;
  };
  /** Token approval revoked (organization). */
  "org.token_approval.authorization_request.revoked": {
    user: string;
    tokenName?: string;
    [field: string]: unknown;
  };
  /** SSO login (organization). */
  "org.sso_login": {
    protocol?: "saml" | "oidc";
    [field: string]: unknown;
  };
  /** Joined via SSO (organization). */
  "org.sso_join": {
    protocol?: "saml" | "oidc";
    role?: "read" | "contributor" | "write" | "admin" | "auditor";
    [field: string]: unknown;
  };
  /** Password sign-in past required SSO (organization). */
  "org.sso_break_glass": {
    protocol?: "saml" | "oidc";
    role?: "read" | "contributor" | "write" | "admin" | "auditor";
    [field: string]: unknown;
  };
  /** Service account created (organization). */
  "org.service_account.create": {
    serviceAccount: string;
    role?: "read" | "contributor" | "write" | "admin";
    description?: string;
    [field: string]: unknown;
  };
  /** Service account deleted (organization). */
  "org.service_account.delete": {
    serviceAccount: string;
    [field: string]: unknown;
  };
  /** Service account token created (organization). */
  "org.service_account.token.create": {
    serviceAccount: string;
    tokenName: string;
    role?: "read" | "write" | "fineGrained";
    expiresAt?: string;
  };
  /** Service account token deleted (organization). */
  "org.service_account.token.delete": {
    serviceAccount: string;
    tokenName: string;
    role?: "read" | "write" | "fineGrained";
    expiresAt?: string;
  };
  /** Service account token rotated (organization). */
  "org.service_account.token.rotate": {
    serviceAccount: string;
    tokenName: string;
    role?: "read" | "write" | "fineGrained";
    expiresAt?: string;
  };
  /** Service account token updated (organization). */
  "org.service_account.token.update": {
    serviceAccount: string;
    tokenName: string;
    role?: "read" | "write" | "fineGrained";
    expiresAt?: string;
    fields?: string[];
  };
  /** OAuth token issued (organization). */
  "oauth.token": {
    app?: string;
    clientId?: string;
    scopes?: string[];
    token?: never;
    accessToken?: never;
    refreshToken?: never;
    [field: string]: unknown;
  };
  /** User invited (membership). */
  "org.invite_user": {
    user: string;
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Invitation emailed (membership). */
  "org.invite.email": {
    email: string;
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Invitation accepted (membership). */
  "org.invite.accept": {
    invitedBy?: string;
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Joined from verified domain (membership). */
  "org.join.from_domain": {
    domain: string;
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Joined automatically (membership). */
  "org.join.automatic": {
    role?: "read" | "contributor" | "write" | "admin";
    reason?: string;
    [field: string]: unknown;
  };
  /** Member added (membership). */
  "org.add_user": {
    user: string;
    role?: "read" | "contributor" | "write" | "admin" | "auditor";
    [field: string]: unknown;
  };
  /** Member removed (membership). */
  "org.remove_user": {
    user: string;
    role?: "read" | "contributor" | "write" | "admin" | "auditor";
    [field: string]: unknown;
  };
  /** Role changed (membership). */
  "org.change_role": {
    user: string;
    oldRole: "read" | "contributor" | "write" | "admin" | "auditor";
    newRole: "read" | "contributor" | "write" | "admin" | "auditor";
    [field: string]: unknown;
  };
  /** Member left (membership). */
  "org.leave": {
    role?: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Join settings updated (membership). */
  "org.update_join_settings": {
    allowJoinRequests?: boolean;
    domains?: string[];
    defaultRole?: "read" | "contributor" | "write" | "admin";
    fields?: string[];
    [field: string]: unknown;
  };
  /** Repository created (content). */
  "repo.create": {
    repo: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    private?: boolean;
    [field: string]: unknown;
  };
  /** Repository deleted (content). */
  "repo.delete": {
    repo: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Repository moved (content). */
  "repo.move": {
    from: string;
    to: string;
    repoType?: "model" | "dataset" | "space" | "bucket";
    private?: boolean;
    [field: string]: unknown;
  };
  /** Repository duplicated (content). */
  "repo.duplication": {
    from: string;
    to: string;
    repoType?: "model" | "dataset" | "space" | "bucket";
    private?: boolean;
    [field: string]: unknown;
  };
  /** Repository settings updated (content). */
  "repo.update_settings": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    fields?: string[];
    private?: boolean;
    gated?: false | "auto" | "manual";
    [field: string]: unknown;
  };
  /** Repository disabled (content). */
  "repo.disable": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    reason?: string;
    [field: string]: unknown;
  };
  /** Repository re-enabled (content). */
  "repo.removeDisable": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** DOI deleted (content). */
  "repo.delete_doi": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    doi: string;
    [field: string]: unknown;
  };
  /** Repository resource group changed (content). */
  "repo.update_resource_group": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    from?: string | null;
    to: string | null;
    [field: string]: unknown;
  };
  /** LFS file deleted (content). */
  "repo.delete_lfs_file": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    oid: string;
    path?: string;
    size?: number;
    [field: string]: unknown;
  };
  /** Trusted publisher added (content). */
  "repo.add_trusted_publisher": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    provider: string;
    repository?: string;
    workflow?: string;
    environment?: string;
    [field: string]: unknown;
  };
  /** Trusted publisher removed (content). */
  "repo.remove_trusted_publisher": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    provider: string;
    repository?: string;
    workflow?: string;
    environment?: string;
    [field: string]: unknown;
  };
  /** Secret added (content). */
  "repo.add_secret": {
    key: string;
  };
  /** Secret updated (content). */
  "repo.update_secret": {
    key: string;
  };
  /** Secret removed (content). */
  "repo.remove_secret": {
    key: string;
  };
  /** Secrets added (content). */
  "repo.add_secrets": {
    keys: string[];
  };
  /** Secrets removed (content). */
  "repo.remove_secrets": {
    keys: string[];
  };
  /** Variable added (content). */
  "repo.add_variable": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    key: string;
    value?: string;
    description?: string;
    [field: string]: unknown;
  };
  /** Variable updated (content). */
  "repo.update_variable": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    key: string;
    value?: string;
    description?: string;
    [field: string]: unknown;
  };
  /** Variable removed (content). */
  "repo.remove_variable": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    key: string;
    value?: string;
    description?: string;
    [field: string]: unknown;
  };
  /** Variables added (content). */
  "repo.add_variables": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    keys: string[];
    [field: string]: unknown;
  };
  /** Variables removed (content). */
  "repo.remove_variables": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    keys: string[];
    [field: string]: unknown;
  };
  /** Collection created (content). */
  "collection.create": {
    slug: string;
    title?: string;
    private?: boolean;
    [field: string]: unknown;
  };
  /** Collection deleted (content). */
  "collection.delete": {
    slug: string;
    title?: string;
    [field: string]: unknown;
  };
  /** Collection resource group changed (content). */
  "collection.update_resource_group": {
    slug?: string;
    title?: string;
    from?: string | null;
    to: string | null;
    [field: string]: unknown;
  };
  /** Persistent storage added (content). */
  "spaces.add_storage": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    tier: "small" | "medium" | "large";
    [field: string]: unknown;
  };
  /** Persistent storage removed (content). */
  "spaces.remove_storage": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    tier?: "small" | "medium" | "large";
    [field: string]: unknown;
  };
  /** Volumes set (content). */
  "spaces.set_volumes": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    volumes: Array<{
      source: string;
      mountPath: string;
      readOnly?: boolean;
      [field: string]: unknown;
    }>;
    [field: string]: unknown;
  };
  /** Volumes removed (content). */
  "spaces.remove_volumes": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    mountPaths?: string[];
    [field: string]: unknown;
  };
  /** Hardware changed (content). */
  "spaces.update_hardware": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    from?: string;
    to: string;
    [field: string]: unknown;
  };
  /** Sleep time changed (content). */
  "spaces.update_sleep_time": {
    repo?: {
      type?: "model" | "dataset" | "space" | "bucket";
      name: string;
      [field: string]: unknown;
    };
    from?: number;
    to: number;
    [field: string]: unknown;
  };
  /** Payment method updated (billing). */
  "billing.update_payment_method": {
    paymentMethod?: {
      type?: "card" | "sepa_debit" | "us_bank_account" | "link" | "other";
      brand?: string;
      last4?: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Payment method removed (billing). */
  "billing.remove_payment_method": {
    paymentMethod?: {
      type?: "card" | "sepa_debit" | "us_bank_account" | "link" | "other";
      brand?: string;
      last4?: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Billing customer created (billing). */
  "billing.create_customer": {
    customerId?: string;
    [field: string]: unknown;
  };
  /** AWS account linked (billing). */
  "billing.aws_add": {
    accountId?: string;
    [field: string]: unknown;
  };
  /** AWS account unlinked (billing). */
  "billing.aws_remove": {
    accountId?: string;
    [field: string]: unknown;
  };
  /** GCP account linked (billing). */
  "billing.gcp_add": {
    billingAccountId?: string;
    [field: string]: unknown;
  };
  /** GCP account unlinked (billing). */
  "billing.gcp_remove": {
    billingAccountId?: string;
    [field: string]: unknown;
  };
  /** Marketplace subscription approved (billing). */
  "billing.marketplace_approve": {
    marketplace: "aws" | "gcp" | "azure";
    subscriptionId?: string;
    [field: string]: unknown;
  };
  /** Subscription started (billing). */
  "billing.start_subscription": {
    plan: string;
    interval?: "month" | "year";
    seats?: number;
    amount?: {
      amount: number;
      currency?: string;
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Subscription renewed (billing). */
  "billing.renew_subscription": {
    plan?: string;
    interval?: "month" | "year";
    seats?: number;
    amount?: {
      amount: number;
      currency?: string;
      [field: string]: unknown;
    };
    periodEnd?: string;
    [field: string]: unknown;
  };
  /** Subscription updated (billing). */
  "billing.update_subscription": {
    plan?: string;
    seats?: {
      from?: number;
      to: number;
      [field: string]: unknown;
    };
    interval?: "month" | "year";
    fields?: string[];
    [field: string]: unknown;
  };
  /** Subscription plan changed (billing). */
  "billing.update_subscription_plan": {
    from?: string;
    to: string;
    interval?: "month" | "year";
    [field: string]: unknown;
  };
  /** Contract details updated (billing). */
  "billing.update_subscription_contract_details": {
    contractId?: string;
    fields?: string[];
    [field: string]: unknown;
  };
  /** Subscription cancelled (billing). */
  "billing.cancel_subscription": {
    plan?: string;
    reason?: string;
    effectiveAt?: string;
    [field: string]: unknown;
  };
  /** Cancellation reverted (billing). */
  "billing.un_cancel_subscription": {
    plan?: string;
    [field: string]: unknown;
  };
  /** Resource group created (resource_group). */
  "resource_group.create": {
    resourceGroup: string;
    description?: string;
    autoJoin?: {
      enabled: boolean;
      role?: "read" | "contributor" | "write" | "admin";
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Resource group deleted (resource_group). */
  "resource_group.delete": {
    resourceGroup?: string;
    [field: string]: unknown;
  };
  /** Resource group settings updated (resource_group). */
  "resource_group.settings": {
    resourceGroup?: string;
    fields?: string[];
    autoJoin?: {
      enabled: boolean;
      role?: "read" | "contributor" | "write" | "admin";
      [field: string]: unknown;
    };
    [field: string]: unknown;
  };
  /** Users added to resource group (resource_group). */
  "resource_group.add_users": {
    resourceGroup?: string;
    users: Array<{
      user: string;
      role: "read" | "contributor" | "write" | "admin";
      [field: string]: unknown;
    }>;
    [field: string]: unknown;
  };
  /** Users removed from resource group (resource_group). */
  "resource_group.remove_users": {
    resourceGroup?: string;
    users: string[];
    [field: string]: unknown;
  };
  /** Resource group role changed (resource_group). */
  "resource_group.change_role": {
    resourceGroup?: string;
    user: string;
    oldRole?: "read" | "contributor" | "write" | "admin";
    newRole: "read" | "contributor" | "write" | "admin";
    [field: string]: unknown;
  };
  /** Job started (jobs). */
  "jobs.create": {
    jobId: string;
    image?: string;
    flavor?: string;
    timeoutSeconds?: number;
    labels?: {
      [field: string]: string;
    };
    [field: string]: unknown;
  };
  /** Job cancelled (jobs). */
  "jobs.cancel": {
    jobId: string;
    [field: string]: unknown;
  };
  /** Job labels updated (jobs). */
  "jobs.update_labels": {
    jobId: string;
    labels: {
      [field: string]: string;
    };
    [field: string]: unknown;
  };
  /** Job exposure changed (jobs). */
  "jobs.update_expose": {
    jobId: string;
    exposed: boolean;
    port?: number;
    [field: string]: unknown;
  };
  /** Scheduled job created (jobs). */
  "scheduled_job.create": {
    scheduledJobId: string;
    schedule: string;
    suspended?: boolean;
    image?: string;
    flavor?: string;
    timeoutSeconds?: number;
    labels?: {
      [field: string]: string;
    };
    [field: string]: unknown;
  };
  /** Scheduled job deleted (jobs). */
  "scheduled_job.delete": {
    scheduledJobId: string;
    [field: string]: unknown;
  };
  /** Scheduled job resumed (jobs). */
  "scheduled_job.resume": {
    scheduledJobId: string;
    [field: string]: unknown;
  };
  /** Scheduled job suspended (jobs). */
  "scheduled_job.suspend": {
    scheduledJobId: string;
    [field: string]: unknown;
  };
  /** Scheduled job run (jobs). */
  "scheduled_job.run": {
    scheduledJobId: string;
    jobId?: string;
    [field: string]: unknown;
  };
  /** Job schedule changed (jobs). */
  "scheduled_job.update_schedule": {
    scheduledJobId: string;
    from?: string;
    to: string;
    [field: string]: unknown;
  };
  /** Scheduled job labels updated (jobs). */
  "scheduled_job.update_labels": {
    scheduledJobId: string;
    labels: {
      [field: string]: string;
    };
    [field: string]: unknown;
  };
}

/** Every event type a service may record. */
export type EventType = keyof EventDataByType;

/** The types whose `data` has no required field: it may be left out. */
export type EventTypeWithOptionalData =
  | "org.delete"
  | "org.restore"
  | "org.update_settings"
  | "org.settings.profile"
  | "org.settings.resource_groups"
  | "org.settings.publisher_gating"
  | "org.settings.inference_providers"
  | "org.settings.inference_providers.usage"
  | "org.settings.sso"
  | "org.settings.sso.enable"
  | "org.settings.sso.disable"
  | "org.settings.security.2fa.enable"
  | "org.settings.security.2fa.disable"
  | "org.settings.security.auto_join.enable"
  | "org.settings.security.auto_join.disable"
  | "org.settings.security.members_privacy.enable"
  | "org.settings.security.members_privacy.disable"
  | "org.settings.network"
  | "org.settings.network.ip_restriction.enable"
  | "org.settings.network.ip_restriction.disable"
  | "org.settings.network.auth_enforcement.enable"
  | "org.settings.network.auth_enforcement.disable"
  | "org.rotate_token"
  | "org.token_approval.enabled"
  | "org.token_approval.disabled"
  | "org.token_approval.authorization_request"
  | "org.sso_login"
  | "org.sso_join"
  | "org.sso_break_glass"
  | "oauth.token"
  | "org.invite.accept"
  | "org.join.automatic"
  | "org.leave"
  | "org.update_join_settings"
  | "repo.update_settings"
  | "repo.disable"
  | "repo.removeDisable"
  | "spaces.remove_storage"
  | "spaces.remove_volumes"
  | "billing.update_payment_method"
  | "billing.remove_payment_method"
  | "billing.create_customer"
  | "billing.aws_add"
  | "billing.aws_remove"
  | "billing.gcp_add"
  | "billing.gcp_remove"
  | "billing.renew_subscription"
  | "billing.update_subscription"
  | "billing.update_subscription_contract_details"
  | "billing.cancel_subscription"
  | "billing.un_cancel_subscription"
  | "resource_group.delete"
  | "resource_group.settings";

/** Everything an event holds besides its type and data. */
export interface EventEnvelope {
  /** The event's id, which the client generates when absent (`evt_` and 24 hex digits). */
  id?: string;
  /** ISO 8601 with an offset; the client sets the time of `record()` when absent. */
  occurredAt?: string;
  actor: Actor;
  target?: Target;
  context?: EventContext;
}

/** One event: its `type` picks the shape of its `data`. */
export type AuditEvent = {
  [Type in EventType]: EventEnvelope & { type: Type } & (Type extends EventTypeWithOptionalData
      ? { data?: EventDataByType[Type] }
      : { data: EventDataByType[Type] });
}[EventType];
