import { useQuery } from "@tanstack/react-query";
import { type ReactNode, useEffect } from "react";
import type { MeResponse } from "./api/api-types.ts";
import { errorMessage } from "./api/client.ts";
import { Popover } from "./components/popover.tsx";
import { ToastProvider } from "./components/toasts.tsx";
import { AuditLogPage } from "./features/audit-log/audit-log-page.tsx";
import { meOptions, useSignOut } from "./features/auth/session-queries.ts";
import { Logo, SignInPage } from "./features/auth/sign-in-page.tsx";
import { LiveUpdatesProvider } from "./features/notifications/live-updates.tsx";
import {
  NotificationBell,
  NotificationToasts,
} from "./features/notifications/notification-bell.tsx";
import { OrgSettingsPage } from "./features/org-settings/lazy-org-settings.tsx";
import { OrgNotice, orgBlocker } from "./features/orgs/org-notice.tsx";
import { defaultOrganization, OrgSwitcher } from "./features/orgs/org-switcher.tsx";
import { ThemeSwitch } from "./features/preferences/theme-switch.tsx";
import { useAfterFirstPaint } from "./lib/after-first-paint.ts";
import { auditLogPath, matchRoute, navigate, useLocation } from "./lib/router.ts";

/** Signed out: the sign-in page (at whatever address, which then opens once signed in). */
export function App() {
  const me = useQuery(meOptions());
  // The live stream opens once the first screen is painted (after-first-paint.ts).
  const painted = useAfterFirstPaint();
  if (me.isPending) {
    return (
      <div className="full-page" aria-busy="true">
        <p className="muted">Loading…</p>
      </div>
    );
  }
  if (me.isError) {
    return (
      <div className="full-page">
        <div className="notice-page" role="alert">
          <h1>The console cannot reach the server</h1>
          <p>{errorMessage(me.error)}</p>
          <button type="button" className="button" onClick={() => void me.refetch()}>
            Try again
          </button>
        </div>
      </div>
    );
  }
  if (!me.data) return <SignInPage />;
  return (
    <ToastProvider>
      <LiveUpdatesProvider enabled={painted}>
        <Shell me={me.data} />
        <NotificationToasts />
      </LiveUpdatesProvider>
    </ToastProvider>
  );
}

function Shell({ me }: { me: MeResponse }) {
  const location = useLocation();
  const route = matchRoute(location.pathname);
  const orgSlug =
    route.name === "audit-log" || route.name === "org-settings" ? route.orgSlug : null;
  const org = me.organizations.find((candidate) => candidate.slug === orgSlug);

  useEffect(() => {
    if (route.name !== "home") return;
    const first = defaultOrganization(me.organizations);
    if (first) navigate(auditLogPath(first.slug), { replace: true });
  }, [route.name, me.organizations]);

  let content: ReactNode;
  if (route.name === "audit-log" && orgSlug) {
    content =
      org && orgBlocker(org) === null ? (
        <AuditLogPage key={org.slug} org={org} />
      ) : (
        <OrgNotice org={org} slug={orgSlug} />
      );
  } else if (route.name === "org-settings" && orgSlug) {
    // Settings are for the admins of an organisation with a log, like the log itself.
    content =
      org && orgBlocker(org) === null ? (
        <OrgSettingsPage key={org.slug} org={org} section={route.section} />
      ) : (
        <OrgNotice org={org} slug={orgSlug} />
      );
  } else if (route.name === "home") {
    content =
      me.organizations.length === 0 ? (
        <div className="notice-page" role="status">
          <h1>No organisation yet</h1>
          <p>
            You are not a member of any organisation. An operator can add you with{" "}
            <code>auditlog user create</code>.
          </p>
        </div>
      ) : null;
  } else {
    content = (
      <div className="notice-page" role="status">
        <h1>Page not found</h1>
        <p>
          <a
            href="/"
            onClick={(event) => {
              event.preventDefault();
              navigate("/");
            }}
          >
            Go to your audit log
          </a>
        </p>
      </div>
    );
  }

  return (
    <div className="shell">
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="header">
        <a
          className="brand"
          href="/"
          // On a phone the words are hidden and the logo alone is the link: it needs a name.
          aria-label="Audit logs"
          onClick={(event) => {
            event.preventDefault();
            navigate("/");
          }}
        >
          <Logo />
          <span className="hide-phone">Audit logs</span>
        </a>
        <OrgSwitcher organizations={me.organizations} current={orgSlug} />
        <div className="header-spacer" />
        <NotificationBell />
        <UserMenu me={me} />
      </header>
      <main id="main" className="main" tabIndex={-1}>
        {content}
      </main>
      <footer className="footer">
        <span>
          <a href="https://db-ip.com" target="_blank" rel="noreferrer">
            IP Geolocation by DB-IP
          </a>{" "}
          (CC BY 4.0)
        </span>
        <span className="muted">IP addresses are anonymised before they are stored.</span>
      </footer>
    </div>
  );
}

function UserMenu({ me }: { me: MeResponse }) {
  const signOut = useSignOut();
  const initial = (me.user.name || me.user.email).charAt(0).toUpperCase();
  return (
    <Popover
      label={
        <span className="user-avatar" aria-hidden="true">
          {initial}
        </span>
      }
      ariaLabel={`Account: ${me.user.email}`}
      buttonClassName="icon-button header-icon"
      panelLabel="Account"
      align="end"
    >
      {() => (
        <div className="user-menu">
          <p>
            <strong>{me.user.name}</strong>
            <span className="muted small">{me.user.email}</span>
          </p>
          <ThemeSwitch />
          <button
            type="button"
            className="button button-block"
            data-autofocus
            onClick={() => signOut.mutate()}
            disabled={signOut.isPending}
          >
            Sign out
          </button>
        </div>
      )}
    </Popover>
  );
}
