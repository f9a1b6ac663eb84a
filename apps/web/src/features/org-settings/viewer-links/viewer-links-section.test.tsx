import type { CreatedViewerLink, ViewerLink } from "@auditlog/events";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockFetch, renderWithQueryClient, testOrg } from "../../../../test/render.tsx";
import type { Organization } from "../../../api/api-types.ts";
import { matchRoute, orgSettingsPath } from "../../../lib/router.ts";
import { OrgSettingsPage } from "../org-settings-page.tsx";
import { embedSnippet, expiresAtIn, originsError, parseOrigins } from "./viewer-link-fields.ts";
import { ViewerLinksSection } from "./viewer-links-section.tsx";

const link: ViewerLink = {
  id: "vwl_1",
  name: "bert owners",
  q: "target:acme/bert",
  tokenPrefix: "avl_AbCd",
  createdBy: { id: "usr_1", name: "Ada Admin" },
  createdAt: "2026-11-01T00:00:00.000Z",
  expiresAt: "2027-11-01T00:00:00.000Z",
  revokedAt: null,
  lastUsedAt: null,
  status: "active",
  embedUrl: "/embed/viewer/vwl_1",
};
const revoked: ViewerLink = {
  ...link,
  id: "vwl_0",
  name: "old link",
  status: "revoked",
  revokedAt: "2026-11-02T00:00:00.000Z",
  lastUsedAt: "2026-11-01T12:00:00.000Z",
};

function api(options: { refuseQ?: boolean; refuseOrigin?: boolean } = {}) {
  let links = [link, revoked];
  let origins: string[] = [];
  return mockFetch((request) => {
    const path = request.url.pathname;
    if (path === "/v1/orgs/acme/viewer-links" && request.method === "GET") {
      return { body: { links } };
    }
    if (path === "/v1/orgs/acme/viewer-links" && request.method === "POST") {
      if (options.refuseQ) {
        return {
          status: 400,
          body: {
            error: {
              code: "validation_failed",
              message: "invalid request body: q unexpected end at position 7",
              details: [{ path: "q", message: "unexpected end at position 7", position: 7 }],
            },
          },
        };
      }
      const body = request.body as { name: string; q: string; expiresAt: string };
      const created: CreatedViewerLink = {
        ...link,
        id: "vwl_2",
        name: body.name,
        q: body.q,
        expiresAt: body.expiresAt,
        embedUrl: "/embed/viewer/vwl_2",
        token: "avl_secret-token",
        embedSrc: "/embed/viewer/vwl_2#avl_secret-token",
      };
      links = [created, ...links];
      return { status: 201, body: created };
    }
    if (path === "/v1/orgs/acme/viewer-links/vwl_1" && request.method === "DELETE") {
      links = links.map((l) =>
        l.id === "vwl_1" ? { ...l, status: "revoked", revokedAt: new Date().toISOString() } : l,
      );
      return { status: 204 };
    }
    if (path === "/v1/orgs/acme/viewer-embedding" && request.method === "GET") {
      return { body: { frameOrigins: origins } };
    }
    if (path === "/v1/orgs/acme/viewer-embedding" && request.method === "PUT") {
      const body = request.body as { frameOrigins: string[] };
      if (options.refuseOrigin) {
        return {
          status: 400,
          body: {
            error: {
              code: "validation_failed",
              message: "invalid request body: frameOrigins.1",
              details: [{ path: "frameOrigins.1", message: "must be an origin" }],
            },
          },
        };
      }
      origins = body.frameOrigins;
      return { body: { frameOrigins: origins } };
    }
    return undefined;
  });
}

describe("Settings › Viewer links", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("lists the links with their filter, state, creator and last use", async () => {
    api();
    renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    const row = (await screen.findByText("bert owners")).closest("tr") as HTMLElement;
    expect(within(row).getByText("target:acme/bert")).toBeTruthy();
    expect(within(row).getByText("Active")).toBeTruthy();
    expect(within(row).getByText("Ada Admin")).toBeTruthy();
    expect(within(row).getByText("Never")).toBeTruthy();
    const old = screen.getByText("old link").closest("tr") as HTMLElement;
    expect(within(old).getByText("Revoked")).toBeTruthy();
    // A revoked link offers no revoke; the active one does.
    expect(within(old).queryByRole("button", { name: /revoke/i })).toBeNull();
    expect(within(row).getByRole("button", { name: "Revoke bert owners" })).toBeTruthy();
  });

  it("creates a link with the filter and expiry chosen, then shows its address once, with the snippet", async () => {
    const requests = api();
    const user = userEvent.setup();
    renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    await screen.findByText("bert owners");
    await user.type(screen.getByRole("textbox", { name: /^Name/ }), "gpt owners");
    await user.type(screen.getByRole("textbox", { name: /^Filter/ }), " target:acme/gpt ");
    await user.selectOptions(screen.getByRole("combobox", { name: "Expires after" }), "7");
    const before = Date.now();
    await user.click(screen.getByRole("button", { name: "Create viewer link" }));
    const notice = await screen.findByRole("status", { name: "New viewer link" });
    const post = requests.find((r) => r.method === "POST");
    const body = post?.body as { name: string; q: string; expiresAt: string };
    expect(body.name).toBe("gpt owners");
    expect(body.q).toBe("target:acme/gpt");
    const days = (Date.parse(body.expiresAt) - before) / 86_400_000;
    expect(days).toBeGreaterThan(6.99);
    expect(days).toBeLessThan(7.01);
    const src = `${window.location.origin}/embed/viewer/vwl_2#avl_secret-token`;
    expect(within(notice).getByRole("link", { name: src })).toBeTruthy();
    expect(within(notice).getByText(/<iframe/).textContent).toBe(embedSnippet(src));
    expect(within(notice).getByRole("button", { name: "Copy link" })).toBeTruthy();
    expect(within(notice).getByRole("button", { name: "Copy snippet" })).toBeTruthy();
    // The form is emptied for the next link; dismissing removes the token from the page.
    expect((screen.getByRole("textbox", { name: /^Filter/ }) as HTMLInputElement).value).toBe("");
    await user.click(within(notice).getByRole("button", { name: "I have stored it" }));
    expect(screen.queryByText(/avl_secret-token/)).toBeNull();
  });

  it("shows the server's refusal of the filter at the filter field", async () => {
    api({ refuseQ: true });
    const user = userEvent.setup();
    renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    await screen.findByText("bert owners");
    await user.type(screen.getByRole("textbox", { name: /^Name/ }), "broken");
    await user.type(screen.getByRole("textbox", { name: /^Filter/ }), "target:");
    await user.click(screen.getByRole("button", { name: "Create viewer link" }));
    const filter = screen.getByRole("textbox", { name: /^Filter/ });
    await vi.waitFor(() => expect(filter.getAttribute("aria-invalid")).toBe("true"));
    const described = filter.getAttribute("aria-describedby") ?? "";
    const message = described
      .split(" ")
      .map((id) => document.getElementById(id)?.textContent)
      .join(" ");
    expect(message).toContain("unexpected end at position 7");
    expect(screen.getByRole("textbox", { name: /^Name/ }).getAttribute("aria-invalid")).toBeNull();
    expect(screen.queryByRole("status", { name: "New viewer link" })).toBeNull();
  });

  it("revokes a link only after confirmation", async () => {
    const requests = api();
    const user = userEvent.setup();
    renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    await user.click(await screen.findByRole("button", { name: "Revoke bert owners" }));
    const dialog = screen.getByRole("dialog", { name: "Revoke viewer link" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(requests.some((r) => r.method === "DELETE")).toBe(false);
    await user.click(screen.getByRole("button", { name: "Revoke bert owners" }));
    await user.click(
      within(screen.getByRole("dialog", { name: "Revoke viewer link" })).getByRole("button", {
        name: "Revoke link",
      }),
    );
    await vi.waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(requests.filter((r) => r.method === "DELETE").map((r) => r.url.pathname)).toEqual([
      "/v1/orgs/acme/viewer-links/vwl_1",
    ]);
    const row = (await screen.findByText("bert owners")).closest("tr") as HTMLElement;
    await vi.waitFor(() => expect(within(row).getByText("Revoked")).toBeTruthy());
  });

  it("saves the framing origins one a line, and names the refused line", async () => {
    const requests = api();
    const user = userEvent.setup();
    const { unmount } = renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    const box = await screen.findByRole("textbox", { name: "Origins that may embed the viewer" });
    await user.type(box, "https://hub.example.com\n\n  http://127.0.0.1:8080 ");
    await user.click(screen.getByRole("button", { name: "Save origins" }));
    expect(await screen.findByText("Saved.")).toBeTruthy();
    expect(requests.find((r) => r.method === "PUT")?.body).toEqual({
      frameOrigins: ["https://hub.example.com", "http://127.0.0.1:8080"],
    });
    unmount();
    api({ refuseOrigin: true });
    renderWithQueryClient(<ViewerLinksSection org={testOrg} />);
    const again = await screen.findByRole("textbox", { name: "Origins that may embed the viewer" });
    await user.type(again, "https://ok.example.com\nhttps://bad.example.com/path");
    await user.click(screen.getByRole("button", { name: "Save origins" }));
    expect((await screen.findByRole("alert")).textContent).toBe(
      "https://bad.example.com/path: must be an origin",
    );
    expect(again.getAttribute("aria-invalid")).toBe("true");
  });

  it("is offered to admins only", async () => {
    api();
    const auditor = { ...testOrg, role: "auditor" } as Organization;
    mockFetch((request) =>
      request.url.pathname === "/v1/orgs/acme/retention"
        ? {
            body: {
              days: 365,
              planDefault: true,
              bounds: { minDays: 7, maxDays: 730, defaultDays: 365 },
              legalHold: false,
              legalHoldReason: null,
              retainedFrom: 1,
            },
          }
        : undefined,
    );
    const { unmount } = renderWithQueryClient(
      <OrgSettingsPage org={auditor} section="viewer-links" />,
    );
    expect((await screen.findAllByText(/365 days/)).length).toBeGreaterThan(0);
    expect(screen.queryByRole("link", { name: "Viewer links" })).toBeNull();
    expect(screen.queryByRole("link", { name: "Members" })).toBeNull();
    expect(screen.queryByRole("button", { name: "Create viewer link" })).toBeNull();
    unmount();
    api();
    renderWithQueryClient(<OrgSettingsPage org={testOrg} section="viewer-links" />);
    expect(screen.getByRole("link", { name: "Viewer links" })).toBeTruthy();
    expect(screen.getByRole("link", { name: "Members" })).toBeTruthy();
    expect(await screen.findByRole("button", { name: "Create viewer link" })).toBeTruthy();
  });
});

describe("the viewer link form's helpers", () => {
  it("computes the expiry, splits origins and escapes the snippet", () => {
    expect(expiresAtIn(30, Date.parse("2026-01-01T00:00:00.000Z"))).toBe(
      "2026-01-31T00:00:00.000Z",
    );
    expect(parseOrigins(" https://a.example.com,\n\nhttp://b.example.com:81 ")).toEqual([
      "https://a.example.com",
      "http://b.example.com:81",
    ]);
    expect(originsError({ frameOrigins: "must hold at most 20 origins" }, [])).toBe(
      "must hold at most 20 origins",
    );
    expect(embedSnippet('https://x.test/e#a"b&c')).toContain(
      'src="https://x.test/e#a&quot;b&amp;c"',
    );
  });
});

describe("the new sections' addresses", () => {
  it("are sections of the organisation's settings", () => {
    for (const section of ["members", "viewer-links"] as const) {
      expect(orgSettingsPath("acme", section)).toBe(`/orgs/acme/settings/${section}`);
      expect(matchRoute(`/orgs/acme/settings/${section}`)).toEqual({
        name: "org-settings",
        orgSlug: "acme",
        section,
      });
    }
    expect(matchRoute("/orgs/acme/settings/viewer-links/vwl_1")).toEqual({ name: "not-found" });
  });
});
