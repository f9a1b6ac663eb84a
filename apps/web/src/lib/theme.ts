import { readPreference, subscribePreferences } from "./preferences.ts";

const darkQuery = "(prefers-color-scheme: dark)";

/** The theme in force: the one chosen in the account menu, or the system's. */
export function resolvedTheme(): "light" | "dark" {
  const chosen = readPreference("theme");
  if (chosen !== "system") return chosen;
  return typeof window.matchMedia === "function" && window.matchMedia(darkQuery).matches
    ? "dark"
    : "light";
}

/**
 * Keeps `data-theme` on <html> (which the stylesheet's colour tokens follow) in step with the
 * choice and with the system's setting. Called once before the first render, so a dark page
 * never flashes light; an inline script in index.html could do it earlier, but the
 * Content-Security-Policy allows none.
 */
export function startThemeSync(): () => void {
  const apply = () => {
    document.documentElement.dataset.theme = resolvedTheme();
  };
  apply();
  const media = typeof window.matchMedia === "function" ? window.matchMedia(darkQuery) : null;
  media?.addEventListener("change", apply);
  const unsubscribe = subscribePreferences(apply);
  return () => {
    media?.removeEventListener("change", apply);
    unsubscribe();
  };
}
