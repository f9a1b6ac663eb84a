import type { AlertRule, RetentionSettings } from "@auditlog/events";
import { screen } from "@testing-library/react";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockFetch, renderWithQueryClient, testOrg } from "../../../test/render.tsx";
import type { Organization } from "../../api/api-types.ts";
import { orgBlocker } from "../orgs/org-notice.tsx";
import { defaultOrganization } from "../orgs/org-switcher.tsx";
import { OrgSettingsPage } from "./org-settings-page.tsx";

/**
 * Issue 20: an auditor sees the organisation's settings (retention, streams, alerts) without a
 * control that would change them, and not the refused events; an admin sees the controls (so
 * each assertion below can fail).
 */
const retention: RetentionSettings = {
  days: 365,
  planDefault: true,
  bounds: { minDays: 7, maxDays: 730, defaultDays: 365 },
  legalHold: false,
  legalHoldReason: null,
  retainedFrom: 1,
};
const rule: AlertRule = {
  id: "alr_1",
  name: "SSO changes",
  q: "type:org.sso.*",
  enabled: true,
  channels: { console: true, email: false, webhook: false, slackUrlHint: null },
  groupWindowSeconds: 300,
  lastFiredAt: null,
  createdAt: "2026-03-01T00:00:00.000Z",
  updatedAt: "2026-03-01T00:00:00.000Z",
};
const auditor = { ...testOrg, role: "auditor" } as Organization;

function api() {
  return mockFetch((request) => {
    const path = request.url.pathname;
    if (path === "/v1/orgs/acme/retention") return { body: retention };
    if (path === "/v1/orgs/acme/alerts") return { body: { alerts: [rule] } };
    if (path === "/v1/orgs/acme/streams") return { body: { streams: [] } };
    return undefined;
  });
}

describe("the settings an auditor sees", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("retention: shown read-only, no form, no refused events", async () => {
    const requests = api();
    renderWithQueryClient(<OrgSettingsPage org={auditor} section="retention" />);
    expect(await screen.findByText(/shown read-only/)).toBeTruthy();
    expect((await screen.findAllByText(/365 days/)).length).toBeGreaterThan(0);
    expect(screen.queryByRole("button", { name: /save|place|lift/i })).toBeNull();
    expect(screen.queryByRole("link", { name: "Refused events" })).toBeNull();
    expect(requests.every((request) => request.method === "GET")).toBe(true);
  });

  it("retention: an admin gets the forms and the refused events", async () => {
    api();
    renderWithQueryClient(<OrgSettingsPage org={testOrg} section="retention" />);
    expect((await screen.findAllByText(/365 days/)).length).toBeGreaterThan(0);
    expect(screen.queryByText(/shown read-only/)).toBeNull();
    expect(screen.getAllByRole("button", { name: /save|place|lift/i }).length).toBeGreaterThan(0);
    expect(screen.getByRole("link", { name: "Refused events" })).toBeTruthy();
  });

  it("alerts: the rules without edit, disable, delete or new", async () => {
    api();
    renderWithQueryClient(<OrgSettingsPage org={auditor} section="alerts" />);
    expect(await screen.findByText("SSO changes")).toBeTruthy();
    for (const name of [/Edit SSO changes/, /Disable SSO changes/, /Delete SSO changes/]) {
      expect(screen.queryByRole("button", { name })).toBeNull();
    }
    expect(screen.queryByRole("button", { name: "New alert rule" })).toBeNull();
  });

  it("alerts: an admin gets every control", async () => {
    api();
    renderWithQueryClient(<OrgSettingsPage org={testOrg} section="alerts" />);
    expect(await screen.findByText("SSO changes")).toBeTruthy();
    for (const name of [/Edit SSO changes/, /Disable SSO changes/, /Delete SSO changes/]) {
      expect(screen.getByRole("button", { name })).toBeTruthy();
    }
    expect(screen.getByRole("button", { name: "New alert rule" })).toBeTruthy();
  });

  it("streams: listed without the form that creates one; an admin gets it", async () => {
    api();
    const { unmount } = renderWithQueryClient(<OrgSettingsPage org={auditor} section="streams" />);
    expect(await screen.findByText("No stream yet.")).toBeTruthy();
    expect(screen.queryByRole("button", { name: /create/i })).toBeNull();
    unmount();
    renderWithQueryClient(<OrgSettingsPage org={testOrg} section="streams" />);
    expect(await screen.findByText("No stream yet: create one below.")).toBeTruthy();
    expect(screen.getAllByRole("button", { name: /create/i }).length).toBeGreaterThan(0);
  });

  it("the refused events' address shows retention instead", async () => {
    api();
    renderWithQueryClient(<OrgSettingsPage org={auditor} section="dead-letters" />);
    expect((await screen.findAllByText(/365 days/)).length).toBeGreaterThan(0);
  });

  it("an auditor's log opens; write and read members get the notice", () => {
    expect(orgBlocker(auditor)).toBeNull();
    expect(orgBlocker({ ...testOrg, role: "read" } as Organization)).toBe("role");
    expect(orgBlocker({ ...testOrg, role: "write" } as Organization)).toBe("role");
    const reader = { ...testOrg, id: "org_2", slug: "reader", role: "read" } as Organization;
    expect(defaultOrganization([reader, auditor])?.slug).toBe("acme");
  });
});
