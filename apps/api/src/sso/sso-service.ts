import { createHash } from "node:crypto";
import {
  completeSsoSignIn,
  deleteOrgSsoConfig,
  findOrganizationById,
  findOrganizationBySlug,
  findOrgSsoConfig,
  roles as membershipRoles,
  type StoredSsoConfig,
  saveOrgSsoConfig,
  secretHint,
} from "@auditlog/db";
import {
  type SsoConfig,
  type SsoConfigInput,
  type SsoErrorCode,
  ssoConfigInputSchema,
} from "@auditlog/events";
import { resolveWebhookTarget } from "@auditlog/events/webhooks";
import * as oidc from "openid-client";
import {
  type ApiActor,
  type ApiClient,
  orgTarget,
  recordApiAction,
  recordApiActions,
} from "../audit-log/record-api-action.ts";
import { ApiError, type ErrorDetail } from "../errors.ts";
import type { Services } from "../services.ts";

/**
 * Single sign-on with OpenID Connect (issue 20): the authorization code flow with PKCE, a state
 * and a nonce, through `openid-client`. The pending sign-in (state, nonce, PKCE verifier,
 * organisation) travels in a short-lived cookie sealed with the deployment's secrets key, so
 * nothing is stored before the provider answers; each state is accepted once (Redis). A
 * successful callback links or creates the user, brings their membership to the mapped role,
 * records the sign-in (and any role change) in the organisation's log, and opens the same
 * session a password sign-in does.
 */

export type SsoServices = Pick<
  Services,
  "db" | "env" | "jobs" | "redis" | "logger" | "lookupHost" | "secrets"
>;

/**
 * The roles a claim may map to: every membership role (packages/db `roles`, from the role list of
 * packages/events). Each of them can be recorded: the catalog's membership events take every
 * member role, a compile-time check in packages/events (catalog/membership.ts).
 */
export const mappableRoles: readonly string[] = membershipRoles;

/** A refused SSO sign-in: the browser goes back to the sign-in page with this code. */
export class SsoRefusal extends Error {
  constructor(
    readonly code: SsoErrorCode,
    message: string,
  ) {
    super(message);
  }
}

/** The password hash of users created by SSO: not an argon2 hash, so no password matches. */
export const ssoOnlyPasswordHash = "!sso-only";

/** How long a started sign-in may take at the provider. */
export const pendingSignInSeconds = 600;
/** The cookie of a pending sign-in (only sent to the callback; `__Host-` on https). */
export function pendingCookieName(env: Pick<Services["env"], "COOKIE_SECURE">): string {
  return env.COOKIE_SECURE ? "__Host-auditlog_sso" : "auditlog_sso";
}

export function ssoCallbackUrl(env: Pick<Services["env"], "PUBLIC_URL">): string {
  return `${env.PUBLIC_URL}/v1/auth/sso/callback`;
}

export function ssoStartUrl(env: Pick<Services["env"], "PUBLIC_URL">, slug: string): string {
  return `${env.PUBLIC_URL}/v1/auth/sso/start?org=${encodeURIComponent(slug)}`;
}

const ssoSystemActor: ApiActor = { type: "system", id: "sso:oidc", name: "Single sign-on" };

// ─── Settings ─────────────────────────────────────────────────────────────────────────────────

interface OrgRef {
  id: string;
  slug: string;
  name: string;
}

export function publicSsoConfig(
  env: Pick<Services["env"], "PUBLIC_URL">,
  org: OrgRef,
  config: StoredSsoConfig,
): SsoConfig {
  return {
    protocol: "oidc",
    issuer: config.issuer,
    clientId: config.clientId,
    clientSecretHint: config.clientSecretHint,
    allowedDomains: config.allowedDomains,
    roleClaim: config.roleClaim,
    roleRules: config.roleRules,
    defaultRole: config.defaultRole,
    requireSso: config.requireSso,
    enabled: config.enabled,
    redirectUri: ssoCallbackUrl(env),
    signInUrl: ssoStartUrl(env, org.slug),
    updatedAt: config.updatedAt.toISOString(),
  };
}

function invalid(details: ErrorDetail[]): ApiError {
  return new ApiError(
    "validation_failed",
    `invalid request body: ${details.map((detail) => `${detail.path} ${detail.message}`).join("; ")}`,
    details,
  );
}

/** The issuer against the address rules (https; local only with SSO_ALLOW_LOCAL_ISSUERS). */
async function checkIssuerAddress(
  services: Pick<SsoServices, "env" | "lookupHost">,
  issuer: string,
): Promise<string | null> {
  const target = await resolveWebhookTarget(
    issuer,
    { allowLocal: services.env.SSO_ALLOW_LOCAL_ISSUERS },
    services.lookupHost,
  );
  return target.kind === "refused" ? target.message : null;
}

export function readSsoConfig(services: Pick<SsoServices, "db" | "env">, org: OrgRef) {
  return findOrgSsoConfig(services.db, org.id).then((config) => {
    if (!config) throw new ApiError("not_found", "single sign-on is not configured");
    return publicSsoConfig(services.env, org, config);
  });
}

/**
 * Creates or replaces the organisation's settings (the admin API and the operator CLI). The
 * client secret is sealed before it reaches PostgreSQL; left out, the stored one is kept. The
 * change is recorded in the organisation's log before it is saved.
 */
export async function saveSsoConfig(
  services: SsoServices,
  input: { org: OrgRef; body: unknown; actor: ApiActor; client: ApiClient },
): Promise<SsoConfig> {
  const parsed = ssoConfigInputSchema.safeParse(input.body);
  if (!parsed.success) {
    throw invalid(
      parsed.error.issues.map((issue) => ({
        path: issue.path.join(".") || "(body)",
        message: issue.message,
      })),
    );
  }
  const values = parsed.data;
  const details: ErrorDetail[] = [];
  const roleProblem = `must be one of ${mappableRoles.join(", ")}`;
  values.roleRules.forEach((rule, index) => {
    if (!mappableRoles.includes(rule.role)) {
      details.push({ path: `roleRules.${index}.role`, message: roleProblem });
    }
  });
  if (values.defaultRole !== null && !mappableRoles.includes(values.defaultRole)) {
    details.push({ path: "defaultRole", message: roleProblem });
  }
  const issuerProblem = await checkIssuerAddress(services, values.issuer);
  if (issuerProblem) details.push({ path: "issuer", message: issuerProblem });
  const existing = await findOrgSsoConfig(services.db, input.org.id);
  if (!values.clientSecret && !existing) {
    details.push({ path: "clientSecret", message: "is required when SSO is first configured" });
  }
  if (details.length > 0) throw invalid(details);
  const secret = values.clientSecret;
  const stored = {
    issuer: values.issuer.replace(/\/+$/, "") || values.issuer,
    clientId: values.clientId,
    clientSecretSealed: secret
      ? services.secrets.seal(secret)
      : (existing as StoredSsoConfig).clientSecretSealed,
    clientSecretHint: secret ? secretHint(secret) : (existing as StoredSsoConfig).clientSecretHint,
    allowedDomains: [...new Set(values.allowedDomains)],
    roleClaim: values.roleClaim,
    roleRules: values.roleRules,
    defaultRole: values.defaultRole,
    requireSso: values.requireSso,
    enabled: values.enabled,
  };
  const changed = existing ? changedFields(existing, stored, Boolean(secret)) : ["created"];
  const events: Parameters<typeof recordApiActions>[1]["events"] = [
    {
      type: "org.settings.sso",
      target: orgTarget(input.org),
      data: { protocol: "oidc", fields: changed },
    },
  ];
  if ((existing?.enabled ?? false) !== stored.enabled) {
    events.push({
      type: stored.enabled ? "org.settings.sso.enable" : "org.settings.sso.disable",
      target: orgTarget(input.org),
      data: { protocol: "oidc" },
    });
  }
  await recordApiActions(services, {
    orgId: input.org.id,
    actor: input.actor,
    client: input.client,
    events,
  });
  const { config } = await saveOrgSsoConfig(services.db, input.org.id, stored);
  return publicSsoConfig(services.env, input.org, config);
}

function changedFields(
  before: StoredSsoConfig,
  after: Omit<StoredSsoConfig, "orgId" | "createdAt" | "updatedAt">,
  secretChanged: boolean,
): string[] {
  const fields: string[] = [];
  // Key order aside: role rules come back from jsonb with their keys reordered.
  const same = (a: unknown, b: unknown) => canonical(a) === canonical(b);
  for (const key of [
    "issuer",
    "clientId",
    "allowedDomains",
    "roleClaim",
    "roleRules",
    "defaultRole",
    "requireSso",
    "enabled",
  ] as const) {
    if (!same(before[key], after[key])) fields.push(key);
  }
  if (secretChanged) fields.push("clientSecret");
  return fields;
}

/** JSON with every object's keys sorted, so equal values compare equal. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, item: unknown) =>
    item && typeof item === "object" && !Array.isArray(item)
      ? Object.fromEntries(Object.entries(item).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : item,
  );
}

export async function removeSsoConfig(
  services: SsoServices,
  input: { org: OrgRef; actor: ApiActor; client: ApiClient },
): Promise<void> {
  const existing = await findOrgSsoConfig(services.db, input.org.id);
  if (!existing) throw new ApiError("not_found", "single sign-on is not configured");
  await recordApiAction(services, {
    orgId: input.org.id,
    actor: input.actor,
    client: input.client,
    event: {
      type: "org.settings.sso.disable",
      target: orgTarget(input.org),
      data: { protocol: "oidc", removed: true },
    },
  });
  await deleteOrgSsoConfig(services.db, input.org.id);
}

// ─── The sign-in ─────────────────────────────────────────────────────────────────────────────

function isNetworkFailure(error: unknown): boolean {
  const seen = new Set<unknown>();
  let current: unknown = error;
  while (current && typeof current === "object" && !seen.has(current)) {
    seen.add(current);
    const { name, code, message } = current as { name?: string; code?: string; message?: string };
    if (name === "AbortError" || name === "TimeoutError") return true;
    if (
      code &&
      /^(ECONNREFUSED|ECONNRESET|ENOTFOUND|EAI_AGAIN|ETIMEDOUT|EHOSTUNREACH|UND_ERR)/.test(code)
    ) {
      return true;
    }
    if (message === "fetch failed") return true;
    current = (current as { cause?: unknown }).cause;
  }
  return false;
}

/** The provider's metadata and our client, from its discovery document. */
async function discover(services: SsoServices, config: StoredSsoConfig) {
  const problem = await checkIssuerAddress(services, config.issuer);
  if (problem) throw new SsoRefusal("issuer_invalid", `issuer ${problem}`);
  let clientSecret: string;
  try {
    clientSecret = services.secrets.open(config.clientSecretSealed);
  } catch {
    throw new SsoRefusal(
      "issuer_invalid",
      "the client secret cannot be opened with SECRETS_KEY_FILE",
    );
  }
  const insecure = services.env.SSO_ALLOW_LOCAL_ISSUERS && config.issuer.startsWith("http:");
  try {
    return await oidc.discovery(
      new URL(config.issuer),
      config.clientId,
      undefined,
      oidc.ClientSecretBasic(clientSecret),
      {
        timeout: services.env.SSO_HTTP_TIMEOUT_SECONDS,
        ...(insecure ? { execute: [oidc.allowInsecureRequests] } : {}),
      },
    );
  } catch (error) {
    if (isNetworkFailure(error)) {
      throw new SsoRefusal("issuer_unreachable", "the issuer's discovery document is unreachable");
    }
    throw new SsoRefusal(
      "issuer_invalid",
      `the issuer's discovery document is invalid (${(error as Error).message})`,
    );
  }
}

/** What the callback needs, sealed in the pending cookie. */
interface PendingSignIn {
  v: 1;
  orgId: string;
  state: string;
  nonce: string;
  verifier: string;
  /** Epoch milliseconds after which the callback is refused. */
  exp: number;
}

/**
 * Starts a sign-in: the provider's authorization URL to send the browser to, and the sealed
 * pending sign-in for the cookie.
 */
export async function startSsoSignIn(
  services: SsoServices,
  slug: string,
  now: Date = new Date(),
): Promise<{ authorizationUrl: string; pendingCookie: string }> {
  const org = slug ? await findOrganizationBySlug(services.db, slug) : null;
  const config = org ? await findOrgSsoConfig(services.db, org.id) : null;
  if (!org || !config) {
    throw new SsoRefusal("not_configured", "no organisation with single sign-on has this slug");
  }
  if (!config.enabled) throw new SsoRefusal("disabled", "single sign-on is turned off");
  const provider = await discover(services, config);
  const verifier = oidc.randomPKCECodeVerifier();
  const state = oidc.randomState();
  const nonce = oidc.randomNonce();
  const authorizationUrl = oidc.buildAuthorizationUrl(provider, {
    redirect_uri: ssoCallbackUrl(services.env),
    scope: "openid email profile",
    code_challenge: await oidc.calculatePKCECodeChallenge(verifier),
    code_challenge_method: "S256",
    state,
    nonce,
  });
  const pending: PendingSignIn = {
    v: 1,
    orgId: org.id,
    state,
    nonce,
    verifier,
    exp: now.getTime() + pendingSignInSeconds * 1000,
  };
  return {
    authorizationUrl: authorizationUrl.href,
    pendingCookie: services.secrets.seal(JSON.stringify(pending)),
  };
}

function openPending(services: SsoServices, cookie: string | undefined, now: Date): PendingSignIn {
  if (!cookie) {
    throw new SsoRefusal("expired", "no pending sign-in in this browser");
  }
  let pending: PendingSignIn;
  try {
    pending = JSON.parse(services.secrets.open(cookie)) as PendingSignIn;
  } catch {
    throw new SsoRefusal("expired", "the pending sign-in cookie cannot be opened");
  }
  if (pending.v !== 1 || pending.exp < now.getTime()) {
    throw new SsoRefusal("expired", "the pending sign-in expired");
  }
  return pending;
}

/** What an openid-client failure means for the person signing in. */
function refusalOf(error: unknown): SsoRefusal {
  if (error instanceof SsoRefusal) return error;
  const message = (error as Error)?.message ?? String(error);
  if (error instanceof oidc.AuthorizationResponseError) {
    return new SsoRefusal("provider_error", `the provider answered ${error.error}`);
  }
  if (error instanceof oidc.ResponseBodyError) {
    return new SsoRefusal("code_rejected", `the token endpoint answered ${error.error}`);
  }
  const code = (error as { code?: string }).code;
  if (code === "OAUTH_JWT_CLAIM_COMPARISON_FAILED") {
    // openid-client wraps oauth4webapi's error: the claim is named along the cause chain.
    const text = causeChain(error)
      .map((link) => `${(link as Error).message ?? ""} ${(link as { claim?: string }).claim ?? ""}`)
      .join(" ");
    if (/"iss"|\biss\b/.test(text)) return new SsoRefusal("wrong_issuer", text);
    if (/"aud"|"azp"|\baud\b/.test(text)) return new SsoRefusal("wrong_audience", text);
    if (/"nonce"|\bnonce\b/.test(text)) return new SsoRefusal("nonce_mismatch", text);
  }
  if (code === "OAUTH_INVALID_RESPONSE" && /"state"/.test(message)) {
    return new SsoRefusal("state_mismatch", message);
  }
  if (code === "OAUTH_INVALID_RESPONSE" && /"iss"/.test(message)) {
    return new SsoRefusal("wrong_issuer", message);
  }
  if (isNetworkFailure(error)) return new SsoRefusal("issuer_unreachable", message);
  return new SsoRefusal("invalid_token", message);
}

function causeChain(error: unknown): unknown[] {
  const chain: unknown[] = [];
  let current: unknown = error;
  while (current && typeof current === "object" && !chain.includes(current) && chain.length < 5) {
    chain.push(current);
    current = (current as { cause?: unknown }).cause;
  }
  return chain;
}

function sha256Hex(value: string): string {
  return createHash("sha256").update(value).digest("hex");
}

function claimValues(value: unknown): string[] {
  if (typeof value === "string") return [value];
  if (Array.isArray(value)) return value.filter((item): item is string => typeof item === "string");
  return [];
}

/** The role the claim gives under the organisation's rules; null when none does. */
export function mappedRole(
  config: Pick<StoredSsoConfig, "roleRules" | "defaultRole">,
  claim: unknown,
) {
  const values = new Set(claimValues(claim));
  const rule = config.roleRules.find((candidate) => values.has(candidate.value));
  return rule?.role ?? config.defaultRole;
}

/**
 * Completes a sign-in at the callback: every check (state, replay, PKCE, nonce, issuer, audience,
 * email domain, role) before anything is created; then the user, membership, log entries and
 * the caller opens the session.
 */
export async function finishSsoSignIn(
  services: SsoServices,
  input: { pendingCookie: string | undefined; callbackUrl: URL; client: ApiClient; now?: Date },
): Promise<{ user: { id: string; email: string; name: string }; orgSlug: string }> {
  const now = input.now ?? new Date();
  const pending = openPending(services, input.pendingCookie, now);
  const presented = input.callbackUrl.searchParams.get("state") ?? "";
  if (sha256Hex(presented) !== sha256Hex(pending.state)) {
    throw new SsoRefusal("state_mismatch", "the callback's state is not this browser's");
  }
  const first = await services.redis.set(
    `sso:state:${sha256Hex(pending.state)}`,
    "1",
    "EX",
    pendingSignInSeconds * 2,
    "NX",
  );
  if (first !== "OK") throw new SsoRefusal("replayed", "this sign-in response was already used");
  const config = await findOrgSsoConfig(services.db, pending.orgId);
  if (!config) throw new SsoRefusal("not_configured", "single sign-on was removed");
  if (!config.enabled) throw new SsoRefusal("disabled", "single sign-on is turned off");
  const provider = await discover(services, config);
  let claims: Record<string, unknown>;
  try {
    const tokens = await oidc.authorizationCodeGrant(provider, input.callbackUrl, {
      pkceCodeVerifier: pending.verifier,
      expectedState: pending.state,
      expectedNonce: pending.nonce,
      idTokenExpected: true,
    });
    const idClaims = tokens.claims();
    if (!idClaims) throw new SsoRefusal("invalid_token", "no ID token");
    claims = { ...idClaims };
    if (provider.serverMetadata().userinfo_endpoint) {
      const info = await oidc.fetchUserInfo(provider, tokens.access_token, idClaims.sub);
      // The ID token's own claims win; the userinfo adds what it left out (email, groups).
      claims = { ...info, ...idClaims };
    }
  } catch (error) {
    throw refusalOf(error);
  }
  const email = typeof claims.email === "string" ? claims.email.trim().toLowerCase() : "";
  if (!email || claims.email_verified === false) {
    throw new SsoRefusal("email_missing", "no verified email claim");
  }
  const domain = email.slice(email.lastIndexOf("@") + 1);
  if (!config.allowedDomains.includes(domain)) {
    throw new SsoRefusal("email_domain", "the email's domain is not allowed");
  }
  const role = mappedRole(config, claims[config.roleClaim]);
  if (!role || !mappableRoles.includes(role)) {
    throw new SsoRefusal("no_role", "no rule maps the claim to a role and there is no default");
  }
  const orgRow = await findOrganizationById(services.db, config.orgId);
  if (!orgRow) throw new SsoRefusal("not_configured", "the organisation was removed");
  const name =
    typeof claims.name === "string" && claims.name.trim()
      ? claims.name.trim().slice(0, 200)
      : email;
  const outcome = await completeSsoSignIn(
    services.db,
    {
      orgId: config.orgId,
      issuer: config.issuer,
      subject: String(claims.sub),
      email,
      name,
      role,
      unusablePasswordHash: ssoOnlyPasswordHash,
      now,
    },
    async (done) => {
      const target = orgTarget(orgRow);
      if (done.previousRole) {
        await recordApiAction(services, {
          orgId: config.orgId,
          actor: ssoSystemActor,
          client: input.client,
          event: {
            type: "org.change_role",
            target,
            data: {
              user: done.user.email,
              oldRole: done.previousRole,
              newRole: done.role,
              via: "sso",
              roleClaim: config.roleClaim,
            },
          },
        });
      }
      const actor: ApiActor = { type: "user", id: done.user.id, name: done.user.name };
      await recordApiActions(services, {
        orgId: config.orgId,
        actor,
        client: input.client,
        events: [
          ...(done.joined
            ? [
                {
                  type: "org.sso_join" as const,
                  target,
                  data: { protocol: "oidc", role: done.role },
                },
              ]
            : []),
          { type: "org.sso_login", target, data: { protocol: "oidc", role: done.role } },
        ],
      });
    },
  );
  if ("refused" in outcome) {
    throw new SsoRefusal(
      outcome.refused,
      outcome.refused === "last_admin"
        ? "the mapped role would remove the organisation's last admin"
        : "the email is linked to another subject of this provider",
    );
  }
  return { user: outcome.user, orgSlug: orgRow.slug };
}

export type { SsoConfigInput };
