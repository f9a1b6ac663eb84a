import type { AuditEntry } from "@auditlog/events";
import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Avatar, LocationCell } from "./entry-cells.tsx";

const actor = {
  type: "user" as const,
  id: "usr_1",
  name: "alice smith",
  tokenRole: null,
  tokenLast4: null,
};

describe("Avatar", () => {
  it("loads an https avatar on a public host", () => {
    const { container } = render(
      <Avatar actor={{ ...actor, avatarUrl: "https://example.com/a.png" }} />,
    );
    expect(container.querySelector("img")?.getAttribute("src")).toBe("https://example.com/a.png");
  });

  it.each([
    "javascript:alert(document.cookie)",
    "data:image/svg+xml;base64,PHN2Zy8+",
    "http://example.com/a.png",
    "https://169.254.169.254/latest/meta-data/",
    "https://localhost/a.png",
  ])("shows initials instead of loading %s, stored before ingestion refused it", (avatarUrl) => {
    const { container } = render(<Avatar actor={{ ...actor, avatarUrl }} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe("AS");
  });
});

describe("LocationCell", () => {
  it("names the country instead of showing its code", () => {
    const entry = {
      ip: "81.2.69.0",
      location: { formatted: "Paris, FR", countryCode: "FR", region: null, city: "Paris" },
    } as unknown as AuditEntry;
    const { container } = render(<LocationCell entry={entry} />);
    expect(container.querySelector(".cell-primary")?.textContent).toBe(
      `Paris, ${new Intl.DisplayNames(undefined, { type: "region" }).of("FR")}`,
    );
    expect(container.textContent).not.toContain("FR");
  });
});
