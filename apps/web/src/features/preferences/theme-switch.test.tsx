import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { startThemeSync } from "../../lib/theme.ts";
import { ThemeSwitch } from "./theme-switch.tsx";

/** A matchMedia whose prefers-color-scheme answer the test sets, and can change. */
function stubColorScheme(dark: boolean) {
  const listeners = new Set<() => void>();
  const state = { dark };
  vi.stubGlobal("matchMedia", (query: string) => ({
    get matches() {
      return query === "(prefers-color-scheme: dark)" && state.dark;
    },
    media: query,
    addEventListener: (_: string, listener: () => void) => listeners.add(listener),
    removeEventListener: (_: string, listener: () => void) => listeners.delete(listener),
  }));
  return (next: boolean) => {
    state.dark = next;
    for (const listener of listeners) listener();
  };
}

let stop: (() => void) | undefined;
afterEach(() => {
  stop?.();
  stop = undefined;
  delete document.documentElement.dataset.theme;
});

describe("the theme", () => {
  it("follows the system until one is chosen, and keeps the choice", async () => {
    const setSystemDark = stubColorScheme(false);
    stop = startThemeSync();
    expect(document.documentElement.dataset.theme).toBe("light");
    setSystemDark(true);
    expect(document.documentElement.dataset.theme).toBe("dark");

    const user = userEvent.setup();
    render(<ThemeSwitch />);
    expect((screen.getByRole("radio", { name: "System" }) as HTMLInputElement).checked).toBe(true);
    await user.click(screen.getByRole("radio", { name: "Light" }));
    expect(document.documentElement.dataset.theme).toBe("light");
    expect(window.localStorage.getItem("auditlog.theme")).toBe("light");
    // The system's setting no longer matters once a theme is chosen.
    setSystemDark(true);
    expect(document.documentElement.dataset.theme).toBe("light");
    await user.click(screen.getByRole("radio", { name: "Dark" }));
    expect(document.documentElement.dataset.theme).toBe("dark");
  });
});
