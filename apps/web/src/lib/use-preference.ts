import { useCallback, useSyncExternalStore } from "react";
import {
  defaultPreferences,
  type Preferences,
  readPreference,
  subscribePreferences,
  writePreference,
} from "./preferences.ts";

/** A display preference and its setter; the component re-renders when it changes anywhere. */
export function usePreference<K extends keyof Preferences>(
  name: K,
): [Preferences[K], (value: Preferences[K]) => void] {
  const value = useSyncExternalStore(
    subscribePreferences,
    () => readPreference(name),
    () => defaultPreferences[name],
  );
  const set = useCallback((next: Preferences[K]) => writePreference(name, next), [name]);
  return [value, set];
}
