import { render, screen } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { chartRegionId, ViewOptions } from "./view-options.tsx";

describe("the view options", () => {
  it("switch compact rows and the chart, and keep both in localStorage", async () => {
    const user = userEvent.setup();
    const first = render(<ViewOptions />);
    const compact = screen.getByRole("button", { name: "Compact" });
    expect(compact.getAttribute("aria-pressed")).toBe("false");
    await user.click(compact);
    expect(compact.getAttribute("aria-pressed")).toBe("true");
    expect(window.localStorage.getItem("auditlog.density")).toBe("compact");

    const hide = screen.getByRole("button", { name: "Hide chart" });
    expect(hide.getAttribute("aria-expanded")).toBe("true");
    expect(hide.getAttribute("aria-controls")).toBe(chartRegionId);
    await user.click(hide);
    expect(window.localStorage.getItem("auditlog.chart")).toBe("collapsed");
    expect(screen.getByRole("button", { name: "Show chart" }).getAttribute("aria-expanded")).toBe(
      "false",
    );

    // A new page (here: a new render) starts from what was chosen.
    first.unmount();
    render(<ViewOptions />);
    expect(screen.getByRole("button", { name: "Compact" }).getAttribute("aria-pressed")).toBe(
      "true",
    );
    expect(screen.getByRole("button", { name: "Show chart" })).toBeTruthy();
  });

  it("ignore a stored value they do not know", () => {
    window.localStorage.setItem("auditlog.density", "tiny");
    render(<ViewOptions />);
    expect(screen.getByRole("button", { name: "Compact" }).getAttribute("aria-pressed")).toBe(
      "false",
    );
  });
});
