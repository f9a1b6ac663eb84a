/**
 * The categories of PRODUCT.md §3. The console colours badges by category and the query API
 * filters by it, so the list is closed. No zod here: the console's first screen names and
 * colours categories without loading zod (its schema, `categorySchema`, is in envelope.ts).
 */
export const categories = [
  "organization",
  "membership",
  "content",
  "billing",
  "resource_group",
  "jobs",
  "audit_log",
] as const;
export type Category = (typeof categories)[number];

export const categoryLabels: Record<Category, string> = {
  organization: "Organisation & security",
  membership: "Membership & access",
  content: "Content & resources",
  billing: "Billing & cloud",
  resource_group: "Resource groups",
  jobs: "Jobs",
  audit_log: "Audit log",
};
