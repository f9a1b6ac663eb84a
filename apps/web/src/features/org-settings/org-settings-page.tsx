import { roleCan } from "@auditlog/events";
import { useQuery } from "@tanstack/react-query";
import type { Organization } from "../../api/api-types.ts";
import { auditLogPath, navigate, orgSettingsPath, type SettingsSection } from "../../lib/router.ts";
import { AlertsSection } from "./alerts-section.tsx";
import { DeadLettersSection } from "./dead-letters-section.tsx";
import { LegalHoldForm } from "./legal-hold-form.tsx";
import { MembersSection } from "./members/members-section.tsx";
import { RetentionForm } from "./retention-form.tsx";
import { retentionOptions } from "./retention-queries.ts";
import { RetentionSummary } from "./retention-summary.tsx";
import { SectionLoadError, SectionLoading } from "./section-states.tsx";
import { StreamsSection } from "./streams/streams-section.tsx";
import { ViewerLinksSection } from "./viewer-links/viewer-links-section.tsx";

/** A link the console's router follows without reloading (a new tab still works). */
function AppLink({
  to,
  className,
  current,
  children,
}: {
  to: string;
  className?: string;
  current?: boolean;
  children: string;
}) {
  return (
    <a
      href={to}
      className={className}
      aria-current={current ? "page" : undefined}
      onClick={(event) => {
        if (event.metaKey || event.ctrlKey || event.shiftKey || event.button !== 0) return;
        event.preventDefault();
        navigate(to);
      }}
    >
      {children}
    </a>
  );
}

/**
 * The organisation's settings: its retention and legal hold, its log streams, its alert rules,
 * the events the worker refused (dead letters), its members and its viewer links. Admins change
 * them; auditors see retention, streams and alerts read-only (no control that would change them
 * is shown), and not the refused events, members or viewer links (admin-only, reads included,
 * as the API's role policy says).
 */
export function OrgSettingsPage({
  org,
  section = "retention",
}: {
  org: Organization;
  section?: SettingsSection;
}) {
  const admin = roleCan(org.role, "administer");
  return (
    <div className="settings-page">
      <div className="page-head">
        <div>
          <AppLink to={auditLogPath(org.slug)} className="back-link">
            ← Audit log
          </AppLink>
          <h1>Settings</h1>
          <p className="muted page-subtitle">
            How long the audit log of <strong>{org.name}</strong> is kept, where it is sent, who is
            told what, and what it refused.
          </p>
          {admin ? null : (
            <p className="notice read-only-notice" role="status">
              You are {org.role === "auditor" ? "an auditor" : `a ${org.role} member`} of {org.name}
              : these settings are shown read-only. Only admins change them.
            </p>
          )}
        </div>
      </div>
      <div className="settings-layout">
        <nav className="settings-nav" aria-label="Settings sections">
          <AppLink to={orgSettingsPath(org.slug)} current={section === "retention"}>
            Retention
          </AppLink>
          <AppLink to={orgSettingsPath(org.slug, "streams")} current={section === "streams"}>
            Streams
          </AppLink>
          <AppLink to={orgSettingsPath(org.slug, "alerts")} current={section === "alerts"}>
            Alerts
          </AppLink>
          {admin ? (
            <AppLink
              to={orgSettingsPath(org.slug, "dead-letters")}
              current={section === "dead-letters"}
            >
              Refused events
            </AppLink>
          ) : null}
          {admin ? (
            <AppLink to={orgSettingsPath(org.slug, "members")} current={section === "members"}>
              Members
            </AppLink>
          ) : null}
          {admin ? (
            <AppLink
              to={orgSettingsPath(org.slug, "viewer-links")}
              current={section === "viewer-links"}
            >
              Viewer links
            </AppLink>
          ) : null}
        </nav>
        {section === "streams" ? (
          <StreamsSection org={org} readOnly={!admin} />
        ) : section === "alerts" ? (
          <AlertsSection org={org} readOnly={!admin} />
        ) : section === "dead-letters" && admin ? (
          <DeadLettersSection org={org} />
        ) : section === "members" && admin ? (
          <MembersSection org={org} />
        ) : section === "viewer-links" && admin ? (
          <ViewerLinksSection org={org} />
        ) : (
          <RetentionSection org={org} readOnly={!admin} />
        )}
      </div>
    </div>
  );
}

function RetentionSection({ org, readOnly }: { org: Organization; readOnly: boolean }) {
  const query = useQuery(retentionOptions(org.slug));
  if (query.isPending) return <SectionLoading label="Loading retention" />;
  if (query.isError) {
    return (
      <SectionLoadError
        what="the retention settings"
        error={query.error}
        onRetry={() => void query.refetch()}
      />
    );
  }
  return (
    <section className="settings-section" aria-label="Retention and legal hold">
      <div className="settings-card">
        <RetentionSummary settings={query.data} plan={org.plan} />
      </div>
      {readOnly ? null : (
        <>
          <RetentionForm orgSlug={org.slug} settings={query.data} />
          <LegalHoldForm orgSlug={org.slug} settings={query.data} />
        </>
      )}
    </section>
  );
}
