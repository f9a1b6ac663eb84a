import { roleCan } from "@auditlog/events";
import type { Organization } from "../../api/api-types.ts";
import { auditLogPath, navigate } from "../../lib/router.ts";

interface OrgSwitcherProps {
  organizations: Organization[];
  current: string | null;
}

export function OrgSwitcher({ organizations, current }: OrgSwitcherProps) {
  if (organizations.length === 0) return null;
  const known = organizations.some((org) => org.slug === current);
  return (
    <label className="org-switcher">
      <span className="visually-hidden">Organisation</span>
      <select
        className="select"
        value={known && current ? current : ""}
        onChange={(event) => navigate(auditLogPath(event.target.value))}
      >
        {known ? null : (
          <option value="" disabled>
            Choose an organisation
          </option>
        )}
        {organizations.map((org) => (
          <option key={org.id} value={org.slug}>
            {org.name}
            {org.hasAuditLogs ? "" : ` · ${planLabel(org.plan)} plan`}
            {org.role === "admin" ? "" : ` · ${org.role}`}
          </option>
        ))}
      </select>
    </label>
  );
}

export function planLabel(plan: string): string {
  return plan.charAt(0).toUpperCase() + plan.slice(1);
}

/** The organisation to open when the address names none: the first whose log the user can read. */
export function defaultOrganization(organizations: Organization[]): Organization | undefined {
  return (
    organizations.find((org) => org.hasAuditLogs && roleCan(org.role, "readLog")) ??
    organizations[0]
  );
}
