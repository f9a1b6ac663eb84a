import { screen, waitFor } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { beforeEach, describe, expect, it, vi } from "vitest";
import { makeExport } from "../../../test/fixtures.ts";
import {
  mockFetch,
  type RecordedRequest,
  renderWithQueryClient,
  testOrg,
} from "../../../test/render.tsx";
import { setCsrfToken } from "../../api/client.ts";
import { AuditLogPage } from "../audit-log/audit-log-page.tsx";
import { ExportDialog } from "./export-dialog.tsx";

const created = makeExport({
  id: "exp_new",
  format: "csv",
  query: "author:alice type:repo.create",
});

let stored: (typeof created)[] = [];

function api(request: RecordedRequest) {
  const path = request.url.pathname;
  if (path === "/v1/orgs/acme/exports" && request.method === "POST") {
    stored = [created];
    return { status: 202, body: created };
  }
  if (path === "/v1/orgs/acme/exports") return { body: { exports: stored } };
  if (path === "/v1/orgs/acme/audit-logs") return { body: { entries: [], nextCursor: null } };
  if (path === "/v1/orgs/acme/audit-logs/histogram") {
    return {
      body: {
        interval: "hour",
        timeZone: "UTC",
        total: 0,
        from: "2026-03-01T00:00:00.000Z",
        to: "2026-03-01T00:00:00.000Z",
        buckets: [],
      },
    };
  }
  return undefined;
}

describe("the export dialog", () => {
  beforeEach(() => {
    stored = [];
  });

  it("submits the current filter and the chosen format", async () => {
    setCsrfToken("csrf-123");
    const requests = mockFetch(api);
    const onCreated = vi.fn();
    const user = userEvent.setup();
    renderWithQueryClient(
      <ExportDialog
        orgSlug="acme"
        filters={{
          q: "author:alice",
          types: ["org.change_role", "repo.create"],
          from: "2026-03-01T00:00:00.000Z",
          to: "2026-03-08T00:00:00.000Z",
        }}
        onClose={() => {}}
        onCreated={onCreated}
      />,
    );
    const dialog = screen.getByRole("dialog", { name: "Export audit log" });
    expect(dialog.textContent).toContain("author:alice");
    expect(dialog.textContent).toContain("org.change_role, repo.create");
    await user.click(screen.getByRole("radio", { name: /CSV/ }));
    await user.click(screen.getByRole("button", { name: "Start export" }));

    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    expect(onCreated.mock.calls[0]?.[0]).toEqual(created);
    const post = requests.find((request) => request.method === "POST");
    expect(post?.url.pathname).toBe("/v1/orgs/acme/exports");
    expect(post?.headers.get("x-csrf-token")).toBe("csrf-123");
    expect(post?.body).toEqual({
      q: "author:alice",
      filters: {
        type: ["org.change_role", "repo.create"],
        from: "2026-03-01T00:00:00.000Z",
        to: "2026-03-08T00:00:00.000Z",
      },
      format: "csv",
    });
  });

  it("includes hidden entries when asked, and says what that makes verifiable", async () => {
    setCsrfToken("csrf-123");
    const requests = mockFetch(api);
    const onCreated = vi.fn();
    const user = userEvent.setup();
    renderWithQueryClient(
      <ExportDialog
        orgSlug="acme"
        filters={{ q: "", types: [] }}
        onClose={() => {}}
        onCreated={onCreated}
      />,
    );
    const checkbox = screen.getByRole("checkbox", { name: "Include hidden entries" });
    expect((checkbox as HTMLInputElement).checked).toBe(false);
    expect(checkbox.getAttribute("aria-describedby")).toBeTruthy();
    const hint = document.getElementById(checkbox.getAttribute("aria-describedby") ?? "");
    expect(hint?.textContent).toContain("signed checkpoint");
    await user.click(checkbox);
    await user.click(screen.getByRole("button", { name: "Start export" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    const post = requests.find((request) => request.method === "POST");
    expect(post?.body).toEqual({ filters: { includeHidden: true }, format: "json" });
  });

  it("leaves hidden entries out by default", async () => {
    setCsrfToken("csrf-123");
    const requests = mockFetch(api);
    const onCreated = vi.fn();
    const user = userEvent.setup();
    renderWithQueryClient(
      <ExportDialog
        orgSlug="acme"
        filters={{ q: "", types: ["repo.create"] }}
        onClose={() => {}}
        onCreated={onCreated}
      />,
    );
    await user.click(screen.getByRole("button", { name: "Start export" }));
    await waitFor(() => expect(onCreated).toHaveBeenCalled());
    const post = requests.find((request) => request.method === "POST");
    expect(post?.body).toEqual({ filters: { type: ["repo.create"] }, format: "json" });
  });

  it("shows why an export could not start, and closes with Escape", async () => {
    mockFetch((request) =>
      request.method === "POST"
        ? {
            status: 403,
            body: { error: { code: "forbidden", message: "no exports on free", requestId: "r" } },
          }
        : undefined,
    );
    const onClose = vi.fn();
    const user = userEvent.setup();
    renderWithQueryClient(
      <ExportDialog
        orgSlug="acme"
        filters={{ q: "", types: [] }}
        onClose={onClose}
        onCreated={() => {}}
      />,
    );
    expect(screen.getByRole("dialog").textContent).toContain("All time");
    await user.click(screen.getByRole("button", { name: "Start export" }));
    expect((await screen.findByRole("alert")).textContent).toContain("no exports on free");
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalled();
  });

  it("takes the filter on screen from the log page, then shows the export's progress", async () => {
    window.history.replaceState(
      null,
      "",
      "/orgs/acme/audit-logs?q=author%3Aalice&type=repo.create&range=custom&from=2026-03-01T00%3A00%3A00.000Z",
    );
    const requests = mockFetch(api);
    const user = userEvent.setup();
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await user.click(screen.getByRole("button", { name: "New export…" }));
    // The dialog is a lazy chunk (lazy-exports.tsx).
    await user.click(await screen.findByRole("radio", { name: /NDJSON/ }, { timeout: 10_000 }));
    await user.click(screen.getByRole("button", { name: "Start export" }));

    const panel = await screen.findByRole(
      "dialog",
      { name: "Export history" },
      { timeout: 10_000 },
    );
    const post = requests.find((request) => request.method === "POST");
    expect(post?.body).toEqual({
      q: "author:alice type:repo.create",
      filters: { from: "2026-03-01T00:00:00.000Z" },
      format: "ndjson",
    });
    expect(panel.textContent).toContain("Queued");
    expect(screen.getByRole("progressbar", { name: "Export exp_new progress" })).toBeTruthy();
  });
});
