import { useCallback, useSyncExternalStore } from "react";

/**
 * The one zone the console shows times in: the table, the details drawer, the chart's buckets,
 * the custom range inputs and the `created:` completion all follow it.
 *
 * Default: local. Admins read a log against their own day ("what happened this morning?"), as
 * GitHub's and Datadog's audit logs show it; the zone is always named (in the Time column header
 * and the chart), so a local time is never mistaken for UTC, and UTC is one click away (and
 * remembered) for comparing with server logs or colleagues in other zones.
 */
export type TimeZoneMode = "local" | "utc";

const storageKey = "auditlog.time-zone";
const listeners = new Set<() => void>();

let localZone: { zone: string; readAt: number } | null = null;

/**
 * The browser's IANA zone ("Europe/Paris"); UTC when it cannot tell. Read at most once a minute:
 * every time cell asks on every render, and building a DateTimeFormat to ask was the console's
 * costliest call while the first rows rendered on a slow CPU. A machine that changes zone is
 * followed within the minute.
 */
export function localTimeZone(): string {
  const now = Date.now();
  if (!localZone || Math.abs(now - localZone.readAt) > 60_000) {
    localZone = { zone: Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC", readAt: now };
  }
  return localZone.zone;
}

export function timeZoneFor(mode: TimeZoneMode): string {
  return mode === "utc" ? "UTC" : localTimeZone();
}

function readMode(): TimeZoneMode {
  try {
    return window.localStorage.getItem(storageKey) === "utc" ? "utc" : "local";
  } catch {
    return "local";
  }
}

export function setTimeZoneMode(mode: TimeZoneMode): void {
  try {
    window.localStorage.setItem(storageKey, mode);
  } catch {
    // Private mode: the choice lasts until the page closes.
  }
  current = mode;
  for (const listener of listeners) listener();
}

let current: TimeZoneMode | null = null;

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  // Another tab switched: follow it.
  const onStorage = (event: StorageEvent) => {
    if (event.key === storageKey) {
      current = readMode();
      listener();
    }
  };
  window.addEventListener("storage", onStorage);
  return () => {
    listeners.delete(listener);
    window.removeEventListener("storage", onStorage);
  };
}

function snapshot(): TimeZoneMode {
  current ??= readMode();
  return current;
}

/** The declared zone: its mode, its IANA name, and the switch. */
export function useTimeZone(): {
  mode: TimeZoneMode;
  timeZone: string;
  setMode: (mode: TimeZoneMode) => void;
} {
  const mode = useSyncExternalStore(subscribe, snapshot, () => "local" as const);
  const setMode = useCallback((next: TimeZoneMode) => setTimeZoneMode(next), []);
  return { mode, timeZone: timeZoneFor(mode), setMode };
}
