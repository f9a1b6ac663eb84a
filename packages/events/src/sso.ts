import { z } from "zod";

/**
 * Single sign-on with OpenID Connect (issue 20): an organisation's settings as its admins and
 * the operator CLI set them, and as the API answers them. The client secret is write-only: it is
 * sealed at rest and answered only as its last four characters (`clientSecretHint`).
 *
 * Roles are the organisation's membership roles; this contract takes any name and the API
 * checks it against the membership roles of the deployment (so a role added there is mappable
 * with no change here).
 */

const domainPattern = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export const ssoDomainSchema = z
  .string()
  .trim()
  .toLowerCase()
  .regex(domainPattern, "must be a domain name such as example.com");

export const ssoRoleRuleSchema = z.strictObject({
  /** A value of the role claim (a group name), compared exactly. */
  value: z.string().min(1, "must not be empty").max(300, "must be at most 300 characters"),
  role: z.string().min(1, "is required").max(50),
});
export type SsoRoleRule = z.infer<typeof ssoRoleRuleSchema>;

const claimName = z
  .string()
  .trim()
  .regex(/^[A-Za-z0-9_:.\-/]{1,100}$/, "must be a claim name such as groups");

/** PUT /v1/orgs/:org/sso: the whole configuration (the secret may be left out to keep it). */
export const ssoConfigInputSchema = z.strictObject({
  /** The OpenID provider's issuer identifier (its discovery document is under it). */
  issuer: z
    .string({ error: "is required" })
    .trim()
    .max(2000, "must be at most 2,000 characters")
    .refine((value) => URL.canParse(value), "must be an absolute URL"),
  clientId: z.string({ error: "is required" }).trim().min(1, "must not be empty").max(500),
  clientSecret: z.string().min(1, "must not be empty").max(2000).optional(),
  /** Only emails of these domains may sign in (at least one). */
  allowedDomains: z.array(ssoDomainSchema).min(1, "must name at least one domain").max(50),
  /** The ID token or userinfo claim holding the user's groups. */
  roleClaim: claimName.default("groups"),
  /** In order: the first rule whose value the claim holds gives the role. */
  roleRules: z.array(ssoRoleRuleSchema).max(100).default([]),
  /** The role when no rule matches; null refuses the sign-in. */
  defaultRole: z.string().min(1).max(50).nullable().default(null),
  /** Refuse password sign-in to members (admins keep it: the break-glass path). */
  requireSso: z.boolean().default(false),
  enabled: z.boolean().default(true),
});
export type SsoConfigInput = z.input<typeof ssoConfigInputSchema>;

export const ssoConfigSchema = z.object({
  protocol: z.literal("oidc"),
  issuer: z.string(),
  clientId: z.string(),
  clientSecretHint: z.string(),
  allowedDomains: z.array(z.string()),
  roleClaim: z.string(),
  roleRules: z.array(ssoRoleRuleSchema),
  defaultRole: z.string().nullable(),
  requireSso: z.boolean(),
  enabled: z.boolean(),
  /** The redirect URI to register at the provider. */
  redirectUri: z.string(),
  /** Where members start a sign-in (a link to hand out). */
  signInUrl: z.string(),
  updatedAt: z.string(),
});
export type SsoConfig = z.infer<typeof ssoConfigSchema>;

export { type SsoErrorCode, ssoErrorCodes, ssoErrorMessages } from "./sso-errors.ts";
