import { screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeEntry } from "../../../test/fixtures.ts";
import {
  mockFetch,
  type RecordedRequest,
  renderWithQueryClient,
  testOrg,
} from "../../../test/render.tsx";
import { AuditLogPage } from "./audit-log-page.tsx";

const entries = [
  makeEntry(0, {
    type: "org.change_role",
    category: "membership",
    description: "bob changed carol's role from read to write",
    actor: {
      type: "token",
      id: "tok_1",
      name: "ci-bot",
      avatarUrl: null,
      tokenRole: "write",
      tokenLast4: "9f3a",
    },
    data: { user: "carol", oldRole: "read", newRole: "write" },
  }),
  makeEntry(1),
  makeEntry(2, { location: null, ip: null }),
];

function api(request: RecordedRequest) {
  const path = request.url.pathname;
  if (path === "/v1/orgs/acme/audit-logs") {
    return { body: { entries, nextCursor: null } };
  }
  if (path === "/v1/orgs/acme/audit-logs/histogram") {
    return {
      body: {
        interval: "day",
        timeZone: "UTC",
        total: 3,
        from: "2026-03-01T00:00:00.000Z",
        to: "2026-03-02T00:00:00.000Z",
        buckets: [{ start: "2026-03-01T00:00:00.000Z", counts: { content: 2, membership: 1 } }],
      },
    };
  }
  if (path === "/v1/orgs/acme/exports") return { body: { exports: [] } };
  return undefined;
}

describe("the log table", () => {
  it("renders a row per entry with time, actor, type, description and location", async () => {
    mockFetch(api);
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    const table = screen.getByRole("table", { name: /audit log entries/i });
    await screen.findByText("bob changed carol's role from read to write");
    const rows = within(table).getAllByRole("row").slice(1);
    expect(rows).toHaveLength(3);
    const first = rows[0] as HTMLElement;
    expect(within(first).getByText("ci-bot")).toBeTruthy();
    expect(within(first).getByText("token …9f3a (write)")).toBeTruthy();
    expect(within(first).getByText("org.change_role").className).toContain("badge-membership");
    // The country by name, not by its code.
    expect(within(first).getByText("Paris, Île-de-France, France")).toBeTruthy();
    expect(within(first).getByText("203.0.113.0")).toBeTruthy();
    const time = first.querySelector("time");
    expect(time?.getAttribute("dateTime")).toBe(entries[0]?.occurredAt);
    expect(time?.getAttribute("title")).toContain(entries[0]?.occurredAt);
    expect(within(rows[2] as HTMLElement).getByText("Unknown location")).toBeTruthy();
  });

  it("opens an entry's details with the keyboard and closes them with Escape", async () => {
    mockFetch(api);
    const user = userEvent.setup();
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await screen.findByText("bob changed carol's role from read to write");
    const rows = within(screen.getByRole("table")).getAllByRole("row").slice(1);
    // One tab stop for the rows: the first one.
    expect(rows.map((row) => row.tabIndex)).toEqual([0, -1, -1]);

    (rows[0] as HTMLElement).focus();
    await user.keyboard("{ArrowDown}");
    expect(document.activeElement).toBe(rows[1]);
    await user.keyboard("{Enter}");

    // The drawer is a lazy chunk (lazy-entry-details.tsx).
    const dialog = await screen.findByRole(
      "dialog",
      { name: "Entry details" },
      { timeout: 10_000 },
    );
    expect(within(dialog).getByText("alice created model acme/model-1")).toBeTruthy();
    expect(within(dialog).getByText(entries[1]?.id ?? "")).toBeTruthy();
    const json = within(dialog).getByLabelText("Entry data as JSON");
    expect(json.textContent).toBe(JSON.stringify(entries[1]?.data, null, 2));
    expect(within(dialog).getByRole("button", { name: "Copy JSON" })).toBeTruthy();
    expect(window.location.search).toContain(`entry=${entries[1]?.id}`);
    expect(dialog.contains(document.activeElement)).toBe(true);

    await user.keyboard("{Escape}");
    await waitFor(() => expect(screen.queryByRole("dialog")).toBeNull());
    expect(document.activeElement).toBe(rows[1]);
    expect(window.location.search).not.toContain("entry=");
  });

  it("sends the filters in the address to the API", async () => {
    window.history.replaceState(
      null,
      "",
      "/orgs/acme/audit-logs?q=author%3Aalice&type=repo.create",
    );
    const requests = mockFetch(api);
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await screen.findByText("bob changed carol's role from read to write");
    const list = requests.find((request) => request.url.pathname === "/v1/orgs/acme/audit-logs");
    // An older link's type= parameter joins q, where the type picker and the chips read it.
    expect(list?.url.searchParams.get("q")).toBe("author:alice type:repo.create");
    expect(list?.url.searchParams.get("type")).toBeNull();
    expect((screen.getByRole("combobox") as HTMLInputElement).value).toBe(
      "author:alice type:repo.create",
    );
    expect(screen.getByRole("button", { name: "Remove filter type:repo.create" })).toBeTruthy();
    // The chart: the same filter, a bucket size the server picks, in the declared zone, and
    // the filter's total from the server (not a sum of what is drawn).
    expect(await screen.findByText("3 entries")).toBeTruthy();
    const chart = requests.find(
      (request) => request.url.pathname === "/v1/orgs/acme/audit-logs/histogram",
    );
    expect(chart?.url.searchParams.get("q")).toBe("author:alice type:repo.create");
    expect(chart?.url.searchParams.get("interval")).toBe("auto");
    expect(chart?.url.searchParams.get("tz")).toBe(
      Intl.DateTimeFormat().resolvedOptions().timeZone,
    );
  });

  it("shows an empty state, and the API's refusal of a query at the bad token", async () => {
    mockFetch((request) =>
      request.url.pathname === "/v1/orgs/acme/audit-logs"
        ? {
            status: 400,
            body: {
              error: {
                code: "bad_request",
                message: "invalid filter",
                requestId: "req_1",
                details: [
                  { path: "q", message: "Unknown event type", position: 0, token: "type:nope" },
                ],
              },
            },
          }
        : api(request),
    );
    window.history.replaceState(null, "", "/orgs/acme/audit-logs?q=type%3Anope");
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    expect(await screen.findByText("The query was refused")).toBeTruthy();
    const alert = screen
      .getAllByRole("alert")
      .find((element) => element.querySelector("mark")) as HTMLElement;
    expect(alert.querySelector("mark")?.textContent).toBe("type:nope");
  });
});
