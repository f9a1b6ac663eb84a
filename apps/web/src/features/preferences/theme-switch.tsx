import type { Preferences } from "../../lib/preferences.ts";
import { usePreference } from "../../lib/use-preference.ts";

const choices: { value: Preferences["theme"]; label: string }[] = [
  { value: "system", label: "System" },
  { value: "light", label: "Light" },
  { value: "dark", label: "Dark" },
];

/** Light, dark, or whatever the system prefers; remembered in this browser. */
export function ThemeSwitch() {
  const [theme, setTheme] = usePreference("theme");
  return (
    <fieldset className="theme-switch">
      <legend>Theme</legend>
      <div className="theme-switch-options">
        {choices.map((choice) => (
          <label key={choice.value} className="theme-switch-option">
            <input
              type="radio"
              name="theme"
              value={choice.value}
              checked={theme === choice.value}
              onChange={() => setTheme(choice.value)}
            />
            {choice.label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
