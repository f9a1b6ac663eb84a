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
  | { name: "org-settings"; orgSlug: string; section: SettingsSection }
  | { name: "not-found" };

export function matchRoute(pathname: string): Route {
  if (pathname === "/" || pathname === "") return { name: "home" };
  const match = /^\/orgs\/([^/]+)(?:\/audit-logs)?\/?$/.exec(pathname);
  if (match?.[1]) return { name: "audit-log", orgSlug: decodeURIComponent(match[1]) };
  const settings = /^\/orgs\/([^/]+)\/settings(?:\/([a-z-]+))?\/?$/.exec(pathname);
  const section = settings?.[2] ?? "retention";
  if (settings?.[1] && isSettingsSection(section)) {
    return { name: "org-settings", orgSlug: decodeURIComponent(settings[1]), section };
  }
  return { name: "not-found" };
}

export function auditLogPath(orgSlug: string, search = ""): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/audit-logs${search}`;
}

export const settingsSections = [
  "retention",
  "streams",
  "alerts",
  "dead-letters",
  "members",
  "viewer-links",
] as const;
export type SettingsSection = (typeof settingsSections)[number];

function isSettingsSection(value: string): value is SettingsSection {
  return (settingsSections as readonly string[]).includes(value);
}

/** A section of the organisation's settings (retention by default). */
export function orgSettingsPath(orgSlug: string, section: SettingsSection = "retention"): string {
  return `/orgs/${encodeURIComponent(orgSlug)}/settings/${section}`;
}
