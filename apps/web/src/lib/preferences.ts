/**
 * Display preferences kept in this browser (localStorage): row density, whether the activity
 * chart is shown, and the colour theme. Every component reading one is updated when it changes,
 * in this tab and in others (the `storage` event). No React here: the entry script sets the theme
 * from it before the console (and React) has loaded.
 */
export interface Preferences {
  density: "comfortable" | "compact";
  chart: "shown" | "collapsed";
  /** "system" follows prefers-color-scheme. */
  theme: "system" | "light" | "dark";
}

export const defaultPreferences: Preferences = {
  density: "comfortable",
  chart: "shown",
  theme: "system",
};
const allowed: { [K in keyof Preferences]: readonly Preferences[K][] } = {
  density: ["comfortable", "compact"],
  chart: ["shown", "collapsed"],
  theme: ["system", "light", "dark"],
};
export const preferenceStorageKey = (name: keyof Preferences) => `auditlog.${name}`;

const listeners = new Set<() => void>();

export function readPreference<K extends keyof Preferences>(name: K): Preferences[K] {
  try {
    const stored = window.localStorage.getItem(preferenceStorageKey(name));
    return (allowed[name] as readonly string[]).includes(stored ?? "")
      ? (stored as Preferences[K])
      : defaultPreferences[name];
  } catch {
    return (memory.get(name) as Preferences[K] | undefined) ?? defaultPreferences[name];
  }
}

export function writePreference<K extends keyof Preferences>(name: K, value: Preferences[K]) {
  try {
    window.localStorage.setItem(preferenceStorageKey(name), value);
  } catch {
    // Private mode or storage refused: the choice lasts until the page is reloaded.
    memory.set(name, value);
  }
  for (const listener of listeners) listener();
}

/** Values chosen when storage refused them, so the choice still applies in this page. */
const memory = new Map<keyof Preferences, string>();

export function subscribePreferences(onChange: () => void): () => void {
  listeners.add(onChange);
  window.addEventListener("storage", onChange);
  return () => {
    listeners.delete(onChange);
    window.removeEventListener("storage", onChange);
  };
}
