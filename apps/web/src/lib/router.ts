import { useSyncExternalStore } from "react";

/**
 * A minimal router over the History API: the console has few routes, and every filter lives in
 * the query string so a view can be shared by its address.
 */
const changeEvent = "auditlog:navigate";

function subscribe(onChange: () => void): () => void {
  window.addEventListener("popstate", onChange);
  window.addEventListener(changeEvent, onChange);
  return () => {
    window.removeEventListener("popstate", onChange);
    window.removeEventListener(changeEvent, onChange);
  };
}

const snapshot = () => `${window.location.pathname}${window.location.search}`;

export interface AppLocation {
  pathname: string;
  search: string;
}

export function useLocation(): AppLocation {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const index = href.indexOf("?");
  return index < 0
    ? { pathname: href, search: "" }
    : { pathname: href.slice(0, index), search: href.slice(index) };
}

export function navigate(to: string, options: { replace?: boolean } = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  window.dispatchEvent(new Event(changeEvent));
}

export type Route =
  | { name: "home" }
  | { name: "audit-log"; orgSlug: string }
  | { name: "org-settings"; orgSlug: string }
  | { name: "org-dead-letters"; orgSlug: string }
  | { name: "org-streams"; orgSlug: string }
  | { name: "not-found" };

export function matchRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { name: "home" };
  const match = /^\/orgs\/([^/]+)(?:\/audit-logs)?\/?$/.exec(pathname);
  if (match?.[1]) return { name: "audit-log", orgSlug: decodeURIComponent(match[1]) };
  const settings = /^\/orgs\/([^/]+)\/settings(?:\/retention)?\/?$/.exec(pathname);
  if (settings?.[1]) return { name: "org-settings", orgSlug: decodeURIComponent(settings[1]) };
  const deadLetters = /^\/orgs\/([^/]+)\/settings\/dead-letters\/?$/.exec(pathname);
  if (deadLetters?.[1]) {
    return { name: "org-dead-letters", orgSlug: decodeURIComponent(deadLetters[1]) };
  }
  const streams = /^\/orgs\/([^/]+)\/settings\/streams\/?$/.exec(pathname);
  if (streams?.[1]) return { name: "org-streams", orgSlug: decodeURIComponent(streams[1]) };
  return { name: "not-found" };
}

export function auditLogPath(orgSlug: string, search = ""): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/audit-logs${search}`;
}

/** The organisation's settings, at their first section (retention). */
export function orgSettingsPath(orgSlug: string): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/settings/retention`;
}

/** The events the worker refused for the organisation: a section of its settings. */
export function deadLettersPath(orgSlug: string): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/settings/dead-letters`;
}

/** The settings section of the organisation's log streams (issue 17). */
export function orgStreamsPath(orgSlug: string): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/settings/streams`;
}
