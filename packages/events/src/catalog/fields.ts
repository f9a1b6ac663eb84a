import { z } from "zod";

/**
 * Building blocks shared by the catalog's `data` schemas. Every string and array is bounded:
 * `data` is stored as JSONB and rendered in the console, so a producer cannot bloat an entry.
 */

/** A Hub handle: user, organisation, service account, resource group … */
export const handle = z.string().min(1).max(300);
/** A short free-text label (token name, provider, hardware flavour …). */
export const label = z.string().min(1).max(300);
/** Free text such as a reason. */
export const text = z.string().max(2000);
/** A list of short labels, e.g. the names of the settings that changed. */
export const labels = z.array(label).max(1000);
/** A non-empty list of handles, e.g. the users added to a resource group. */
export const handles = z.array(handle).min(1).max(1000);

export const timestamp = z.iso.datetime({ offset: true });

/** Roles of an organisation and of a resource group on the Hub. */
export const orgRoles = ["read", "contributor", "write", "admin"] as const;
export const orgRole = z.enum(orgRoles);

export const repoTypes = ["model", "dataset", "space", "bucket"] as const;
export const repoType = z.enum(repoTypes);
/** `owner/name` */
export const repoName = z.string().min(1).max(300);
export const repoRef = z.looseObject({
  /** The Hub's default is `model`; when absent descriptions say "repository". */
  type: repoType.optional(),
  name: repoName,
});

/**
 * The name of a secret or variable — never its value. Secret events use strict objects, so a
 * producer that sends `value` is rejected instead of the value being stored.
 */
export const keyName = z.string().min(1).max(256);
export const keyNames = z.array(keyName).min(1).max(1000);

export const ssoProtocol = z.enum(["saml", "oidc"]);

/** An amount in the currency's minor unit (cents), with its ISO 4217 code. */
export const money = z.looseObject({
  amount: z.int().nonnegative().max(1_000_000_000_000),
  currency: z
    .string()
    .regex(/^[A-Z]{3}$/, "must be an ISO 4217 currency code")
    .optional(),
});

export const plan = z.string().min(1).max(100);
export const billingInterval = z.enum(["month", "year"]);

/** Key–value labels of a job, as the Hub's jobs API takes them. */
export const jobLabels = z
  .record(z.string().min(1).max(100), z.string().max(300))
  .refine((record) => Object.keys(record).length <= 100, "must have at most 100 labels");

export const jobId = z.string().min(1).max(200);
