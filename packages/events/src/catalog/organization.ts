import { z } from "zod";
import { defineEvent } from "../define-event.ts";
import type { Target } from "../envelope.ts";
import { details, fromTo, list, targetName, toggled } from "./describe-helpers.ts";
import { handle, label, labels, orgRole, ssoProtocol, text, timestamp } from "./fields.ts";
import { memberOrOrgRole } from "./membership.ts";

const org = (target: Target | undefined, name?: string) =>
  name ?? targetName(target, "the organization");
/** "SSO" or "SAML SSO". */
const sso = (protocol: string | undefined) => (protocol ? `${protocol.toUpperCase()} SSO` : "SSO");

/** Data of settings events that only report which settings changed. */
const changedSettings = z.looseObject({ fields: labels.optional() });
/** Data of enable/disable toggles; the Hub sends none. */
const toggle = z.looseObject({});

const visibility = z.enum(["public", "private"]);
const tokenRole = z.enum(["read", "write", "fineGrained"]);

/** Organisation lifecycle and the legacy settings event. */
const core = [
  defineEvent({
    type: "org.create",
    category: "organization",
    title: "Organization created",
    data: z.looseObject({ name: handle, fullname: label.optional(), plan: label.optional() }),
    example: { name: "acme", fullname: "Acme Corp" },
    describe: ({ actor, data }) => `${actor.name} created organization ${data.name}`,
  }),
  defineEvent({
    type: "org.delete",
    category: "organization",
    title: "Organization deleted",
    data: z.looseObject({ name: handle.optional() }),
    example: { name: "acme" },
    describe: ({ actor, target, data }) =>
      `${actor.name} deleted organization ${org(target, data.name)}`,
  }),
  defineEvent({
    type: "org.restore",
    category: "organization",
    title: "Organization restored",
    data: z.looseObject({ name: handle.optional() }),
    example: { name: "acme" },
    describe: ({ actor, target, data }) =>
      `${actor.name} restored organization ${org(target, data.name)}`,
  }),
  defineEvent({
    type: "org.rename",
    category: "organization",
    title: "Organization renamed",
    data: z.looseObject({ from: handle, to: handle }),
    example: { from: "acme", to: "acme-ai" },
    describe: ({ actor, data }) => `${actor.name} renamed organization ${data.from} to ${data.to}`,
  }),
  defineEvent({
    type: "org.update_settings",
    category: "organization",
    title: "Settings updated (legacy)",
    data: changedSettings,
    example: { fields: ["fullname", "homepage"] },
    describe: ({ actor, data }) =>
      `${actor.name} updated the organization settings${details(data.fields)}`,
  }),
] as const;

/** The granular `org.settings.*` events that replaced `org.update_settings`. */
const settings = [
  defineEvent({
    type: "org.settings.profile",
    category: "organization",
    title: "Profile updated",
    data: changedSettings,
    example: { fields: ["fullname", "avatar"] },
    describe: ({ actor, data }) =>
      `${actor.name} updated the organization profile${details(data.fields)}`,
  }),
  defineEvent({
    type: "org.settings.regions",
    category: "organization",
    title: "Storage regions changed",
    data: z.looseObject({ from: labels.optional(), regions: labels.min(1) }),
    example: { from: ["us"], regions: ["us", "eu"] },
    describe: ({ actor, data }) =>
      `${actor.name} set the organization's storage regions to ${list(data.regions)}`,
  }),
  defineEvent({
    type: "org.settings.resource_groups",
    category: "organization",
    title: "Resource group settings updated",
    data: z.looseObject({ enabled: z.boolean().optional(), fields: labels.optional() }),
    example: { enabled: true },
    describe: ({ actor, data }) =>
      data.enabled === undefined
        ? `${actor.name} updated the resource group settings${details(data.fields)}`
        : `${actor.name} ${toggled(data.enabled, "")} resource groups`,
  }),
  defineEvent({
    type: "org.settings.publisher_gating",
    category: "organization",
    title: "Publisher gating updated",
    data: z.looseObject({ enabled: z.boolean().optional(), fields: labels.optional() }),
    example: { enabled: true },
    describe: ({ actor, data }) =>
      data.enabled === undefined
        ? `${actor.name} updated the publisher gating settings${details(data.fields)}`
        : `${actor.name} ${toggled(data.enabled, "")} publisher gating`,
  }),
  defineEvent({
    type: "org.settings.inference_providers",
    category: "organization",
    title: "Inference providers updated",
    data: z.looseObject({ enabled: labels.optional(), disabled: labels.optional() }),
    example: { enabled: ["together", "fal-ai"], disabled: ["replicate"] },
    describe: ({ actor, data }) => {
      const changes = [
        ...(data.enabled?.length ? [`enabled ${list(data.enabled)}`] : []),
        ...(data.disabled?.length ? [`disabled ${list(data.disabled)}`] : []),
      ];
      return `${actor.name} updated the inference provider settings${changes.length ? `: ${changes.join("; ")}` : ""}`;
    },
  }),
  defineEvent({
    type: "org.settings.inference_providers.keys.add",
    category: "organization",
    title: "Inference provider key added",
    // Secret event: strict, records which provider's key was added and never the key itself.
    data: z.strictObject({ provider: label, keyName: label.optional() }),
    example: { provider: "together", keyName: "production" },
    describe: ({ actor, data }) =>
      `${actor.name} added ${data.keyName ? `API key ${data.keyName}` : "an API key"} for inference provider ${data.provider}`,
  }),
  defineEvent({
    type: "org.settings.inference_providers.keys.remove",
    category: "organization",
    title: "Inference provider key removed",
    data: z.strictObject({ provider: label, keyName: label.optional() }),
    example: { provider: "together" },
    describe: ({ actor, data }) =>
      `${actor.name} removed ${data.keyName ? `API key ${data.keyName}` : "the API key"} for inference provider ${data.provider}`,
  }),
  defineEvent({
    type: "org.settings.inference_providers.usage",
    category: "organization",
    title: "Inference usage settings updated",
    data: z.looseObject({
      provider: label.optional(),
      enabled: z.boolean().optional(),
      fields: labels.optional(),
    }),
    example: { provider: "together", enabled: true },
    describe: ({ actor, data }) =>
      `${actor.name} updated the inference usage settings${data.provider ? ` for ${data.provider}` : ""}${details(data.fields)}`,
  }),
  defineEvent({
    type: "org.settings.sso",
    category: "organization",
    title: "SSO configuration updated",
    data: z.looseObject({ protocol: ssoProtocol.optional(), fields: labels.optional() }),
    example: { protocol: "saml", fields: ["idpMetadata", "defaultRole"] },
    describe: ({ actor, data }) =>
      `${actor.name} updated the ${sso(data.protocol)} configuration${details(data.fields)}`,
  }),
  defineEvent({
    type: "org.settings.sso.enable",
    category: "organization",
    title: "SSO enabled",
    data: z.looseObject({ protocol: ssoProtocol.optional() }),
    example: { protocol: "oidc" },
    describe: ({ actor, data }) => `${actor.name} enabled ${sso(data.protocol)}`,
  }),
  defineEvent({
    type: "org.settings.sso.disable",
    category: "organization",
    title: "SSO disabled",
    data: z.looseObject({ protocol: ssoProtocol.optional() }),
    example: {},
    describe: ({ actor, data }) => `${actor.name} disabled ${sso(data.protocol)}`,
  }),
  defineEvent({
    type: "org.settings.security.repo_visibility",
    category: "organization",
    title: "Default repo visibility changed",
    data: z.looseObject({ from: visibility.optional(), to: visibility }),
    example: { from: "public", to: "private" },
    describe: ({ actor, data }) =>
      `${actor.name} changed the default repository visibility${fromTo(data.from, data.to)}`,
  }),
  defineEvent({
    type: "org.settings.security.2fa.enable",
    category: "organization",
    title: "2FA requirement enabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} required two-factor authentication for members`,
  }),
  defineEvent({
    type: "org.settings.security.2fa.disable",
    category: "organization",
    title: "2FA requirement disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) =>
      `${actor.name} stopped requiring two-factor authentication for members`,
  }),
  defineEvent({
    type: "org.settings.security.auto_join.enable",
    category: "organization",
    title: "Auto-join enabled",
    data: z.looseObject({ domains: labels.optional(), role: orgRole.optional() }),
    example: { domains: ["acme.com"], role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} enabled auto-join${data.domains?.length ? ` for ${list(data.domains)}` : ""}${data.role ? ` with role ${data.role}` : ""}`,
  }),
  defineEvent({
    type: "org.settings.security.auto_join.disable",
    category: "organization",
    title: "Auto-join disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} disabled auto-join`,
  }),
  defineEvent({
    type: "org.settings.security.members_privacy.enable",
    category: "organization",
    title: "Members privacy enabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} made the member list private`,
  }),
  defineEvent({
    type: "org.settings.security.members_privacy.disable",
    category: "organization",
    title: "Members privacy disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} made the member list public`,
  }),
  defineEvent({
    type: "org.settings.network",
    category: "organization",
    title: "Network settings updated",
    data: changedSettings,
    example: { fields: ["ipRanges"] },
    describe: ({ actor, data }) =>
      `${actor.name} updated the network settings${details(data.fields)}`,
  }),
  defineEvent({
    type: "org.settings.network.ip_restriction.enable",
    category: "organization",
    title: "IP restriction enabled",
    data: z.looseObject({ ranges: z.array(z.string().min(1).max(64)).max(1000).optional() }),
    example: { ranges: ["203.0.113.0/24", "2001:db8::/48"] },
    describe: ({ actor, data }) =>
      `${actor.name} enabled IP restriction${data.ranges?.length ? ` to ${list(data.ranges)}` : ""}`,
  }),
  defineEvent({
    type: "org.settings.network.ip_restriction.disable",
    category: "organization",
    title: "IP restriction disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} disabled IP restriction`,
  }),
  defineEvent({
    type: "org.settings.network.auth_enforcement.enable",
    category: "organization",
    title: "Auth enforcement enabled",
    data: toggle,
    example: {},
    describe: ({ actor }) =>
      `${actor.name} enabled authentication enforcement on the organization network`,
  }),
  defineEvent({
    type: "org.settings.network.auth_enforcement.disable",
    category: "organization",
    title: "Auth enforcement disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) =>
      `${actor.name} disabled authentication enforcement on the organization network`,
  }),
] as const;

/** An admin's decision on a token authorization request; `user` is the requester. */
function approvalOutcome<const Type extends string>(
  type: Type,
  title: string,
  /** e.g. "approved bob's request for token ci" */
  phrase: (user: string, token: string) => string,
) {
  return defineEvent({
    type,
    category: "organization",
    title,
    data: z.looseObject({ user: handle, tokenName: label.optional() }),
    personalData: ["user"],
    example: { user: "bob", tokenName: "ci" },
    describe: ({ actor, data }) =>
      `${actor.name} ${phrase(data.user, data.tokenName ? `token ${data.tokenName}` : "an access token")}`,
  });
}

/** Security tokens, token approval and SSO sign-ins. */
const security = [
  defineEvent({
    type: "org.rotate_token",
    category: "organization",
    title: "Organization token rotated",
    // Secret event: strict, so a token value cannot be stored.
    data: z.strictObject({ tokenName: label.optional() }),
    example: { tokenName: "api-inference" },
    describe: ({ actor, data }) =>
      `${actor.name} rotated ${data.tokenName ? `organization token ${data.tokenName}` : "the organization token"}`,
  }),
  defineEvent({
    type: "org.token_approval.enabled",
    category: "organization",
    title: "Token approval enabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} enabled token approval`,
  }),
  defineEvent({
    type: "org.token_approval.disabled",
    category: "organization",
    title: "Token approval disabled",
    data: toggle,
    example: {},
    describe: ({ actor }) => `${actor.name} disabled token approval`,
  }),
  defineEvent({
    type: "org.token_approval.authorization_request",
    category: "organization",
    title: "Token authorization requested",
    data: z.looseObject({ tokenName: label.optional(), permissions: labels.optional() }),
    example: { tokenName: "ci", permissions: ["repo.content.read", "repo.write"] },
    describe: ({ actor, data }) =>
      `${actor.name} requested approval for ${data.tokenName ? `token ${data.tokenName}` : "an access token"}`,
  }),
  approvalOutcome(
    "org.token_approval.authorization_request.authorized",
    "Token request approved",
    (user, token) => `approved ${user}'s request for ${token}`,
  ),
  approvalOutcome(
    "org.token_approval.authorization_request.denied",
    "Token request denied",
    (user, token) => `denied ${user}'s request for ${token}`,
  ),
  approvalOutcome(
    "org.token_approval.authorization_request.revoked",
    "Token approval revoked",
    (user, token) => `revoked the approval of ${user}'s request for ${token}`,
  ),
  defineEvent({
    type: "org.sso_login",
    category: "organization",
    title: "SSO login",
    data: z.looseObject({ protocol: ssoProtocol.optional() }),
    example: { protocol: "saml" },
    describe: ({ actor, data }) => `${actor.name} signed in with ${sso(data.protocol)}`,
  }),
  defineEvent({
    type: "org.sso_join",
    category: "organization",
    title: "Joined via SSO",
    data: z.looseObject({ protocol: ssoProtocol.optional(), role: memberOrOrgRole.optional() }),
    example: { protocol: "saml", role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} joined the organization via SSO${data.role ? ` with role ${data.role}` : ""}`,
  }),
  defineEvent({
    // Recorded by the API for each organisation requiring SSO whose admin signed in with a
    // password instead (the break-glass path): visible, since it is what an auditor looks for.
    type: "org.sso_break_glass",
    category: "organization",
    title: "Password sign-in past required SSO",
    data: z.looseObject({ protocol: ssoProtocol.optional(), role: memberOrOrgRole.optional() }),
    example: { protocol: "oidc", role: "admin" },
    describe: ({ actor, data }) =>
      `${actor.name} signed in with a password although the organization requires ${sso(data.protocol)} (break-glass)`,
  }),
] as const;

/** Service accounts and their tokens; token events are strict so no token value is stored. */
const serviceAccountToken = z.strictObject({
  serviceAccount: handle,
  tokenName: label,
  role: tokenRole.optional(),
  expiresAt: timestamp.optional(),
});

const serviceAccounts = [
  defineEvent({
    type: "org.service_account.create",
    category: "organization",
    title: "Service account created",
    data: z.looseObject({
      serviceAccount: handle,
      role: orgRole.optional(),
      description: text.optional(),
    }),
    example: { serviceAccount: "acme-ci-bot", role: "write" },
    describe: ({ actor, data }) =>
      `${actor.name} created service account ${data.serviceAccount}${data.role ? ` with role ${data.role}` : ""}`,
  }),
  defineEvent({
    type: "org.service_account.delete",
    category: "organization",
    title: "Service account deleted",
    data: z.looseObject({ serviceAccount: handle }),
    example: { serviceAccount: "acme-ci-bot" },
    describe: ({ actor, data }) => `${actor.name} deleted service account ${data.serviceAccount}`,
  }),
  defineEvent({
    type: "org.service_account.token.create",
    category: "organization",
    title: "Service account token created",
    data: serviceAccountToken,
    example: {
      serviceAccount: "acme-ci-bot",
      tokenName: "deploy",
      role: "write",
      expiresAt: "2027-01-01T00:00:00Z",
    },
    describe: ({ actor, data }) =>
      `${actor.name} created token ${data.tokenName} for service account ${data.serviceAccount}`,
  }),
  defineEvent({
    type: "org.service_account.token.delete",
    category: "organization",
    title: "Service account token deleted",
    data: serviceAccountToken,
    example: { serviceAccount: "acme-ci-bot", tokenName: "deploy" },
    describe: ({ actor, data }) =>
      `${actor.name} deleted token ${data.tokenName} of service account ${data.serviceAccount}`,
  }),
  defineEvent({
    type: "org.service_account.token.rotate",
    category: "organization",
    title: "Service account token rotated",
    data: serviceAccountToken,
    example: { serviceAccount: "acme-ci-bot", tokenName: "deploy" },
    describe: ({ actor, data }) =>
      `${actor.name} rotated token ${data.tokenName} of service account ${data.serviceAccount}`,
  }),
  defineEvent({
    type: "org.service_account.token.update",
    category: "organization",
    title: "Service account token updated",
    data: serviceAccountToken.extend({ fields: labels.optional() }),
    example: { serviceAccount: "acme-ci-bot", tokenName: "deploy", role: "read" },
    describe: ({ actor, data }) =>
      `${actor.name} updated token ${data.tokenName} of service account ${data.serviceAccount}${data.role ? ` (role ${data.role})` : details(data.fields)}`,
  }),
  defineEvent({
    type: "oauth.token",
    category: "organization",
    title: "OAuth token issued",
    // Loose for forward compatibility, but a token field is refused: tokens never enter an entry.
    data: z.looseObject({
      app: label.optional(),
      clientId: label.optional(),
      scopes: labels.optional(),
      token: z.never().optional(),
      accessToken: z.never().optional(),
      refreshToken: z.never().optional(),
    }),
    example: { app: "Acme Dashboard", clientId: "0f1e2d3c-4b5a", scopes: ["openid", "profile"] },
    describe: ({ actor, data }) => {
      const app = data.app ?? data.clientId;
      return `${actor.name} authorized ${app ? `OAuth app ${app}` : "an OAuth app"}${data.scopes?.length ? ` with scopes ${list(data.scopes)}` : ""}`;
    },
  }),
] as const;

export const organizationEvents = [...core, ...settings, ...security, ...serviceAccounts] as const;
