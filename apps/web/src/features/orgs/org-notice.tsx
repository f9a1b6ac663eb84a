import { roleCan } from "@auditlog/events";
import type { Organization } from "../../api/api-types.ts";
import { planLabel } from "./org-switcher.tsx";

/** Why an organisation's log cannot be shown: a clear notice instead of an empty table. */
export function orgBlocker(org: Organization | undefined): "missing" | "plan" | "role" | null {
  if (!org) return "missing";
  if (!org.hasAuditLogs) return "plan";
  if (!roleCan(org.role, "readLog")) return "role";
  return null;
}

export function OrgNotice({ org, slug }: { org: Organization | undefined; slug: string }) {
  const blocker = orgBlocker(org);
  if (blocker === "missing" || !org) {
    return (
      <div className="notice-page" role="status">
        <h1>Organisation not found</h1>
        <p>
          “{slug}” does not exist, or you are not a member of it. Pick one of your organisations
          from the menu above.
        </p>
      </div>
    );
  }
  if (blocker === "plan") {
    return (
      <div className="notice-page notice-upgrade" role="status">
        <span className="notice-kicker">{planLabel(org.plan)} plan</span>
        <h1>Audit logs are a Team and Enterprise feature</h1>
        <p>
          {org.name} is on the {planLabel(org.plan)} plan, which does not record an audit log.
          Upgrade to Team or Enterprise to see who did what in the organisation, filter it and
          export it.
        </p>
        {org.upgradeUrl ? (
          <p>
            <a className="button button-primary" href={org.upgradeUrl}>
              Upgrade {org.name}
            </a>
          </p>
        ) : null}
      </div>
    );
  }
  return (
    <div className="notice-page" role="status">
      <span className="notice-kicker">Your role: {org.role}</span>
      <h1>Only admins and auditors can read the audit log</h1>
      <p>
        You are a member of {org.name} with the {org.role} role. Ask an admin of the organisation
        for access, or for an export of the entries you need.
      </p>
    </div>
  );
}
