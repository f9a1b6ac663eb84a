import { parseQuery, type SavedView } from "@auditlog/events";
import { act, screen, waitFor, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it } from "vitest";
import { makeEntry } from "../../../test/fixtures.ts";
import {
  mockFetch,
  type RecordedRequest,
  renderWithQueryClient,
  testOrg,
} from "../../../test/render.tsx";
import { AuditLogPage } from "../audit-log/audit-log-page.tsx";
import { preparedViews } from "../saved-views/prepared-views.ts";
import { recordStoredEntries } from "./new-entries.tsx";

const entries = [makeEntry(0), makeEntry(1), makeEntry(2)];

function api(views: SavedView[] = []) {
  return (request: RecordedRequest) => {
    const path = request.url.pathname;
    if (path === "/v1/orgs/acme/audit-logs") return { body: { entries, nextCursor: null } };
    if (path === "/v1/orgs/acme/audit-logs/histogram") {
      return { body: { interval: "day", from: null, to: null, buckets: [] } };
    }
    if (path === "/v1/orgs/acme/exports") return { body: { exports: [] } };
    if (path === "/v1/orgs/acme/views" && request.method === "GET") return { body: { views } };
    if (path === "/v1/orgs/acme/views" && request.method === "POST") {
      const body = request.body as { name: string; filters: SavedView["filters"] };
      return {
        status: 201,
        body: { id: "vw_new", createdAt: "2026-12-01T00:00:00.000Z", ...body },
      };
    }
    if (path.startsWith("/v1/orgs/acme/views/") && request.method === "DELETE") {
      return { status: 204 };
    }
    return undefined;
  };
}

const listRequests = (requests: RecordedRequest[]) =>
  requests.filter((request) => request.url.pathname === "/v1/orgs/acme/audit-logs").length;

describe("the new-entries pill", () => {
  it("counts what the stream announces for this organisation and reloads on click", async () => {
    window.history.replaceState(null, "", "/orgs/acme/audit-logs?q=author%3Aalice");
    const requests = mockFetch(api());
    const user = userEvent.setup();
    const { queryClient } = renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await screen.findByText(entries[0]?.description ?? "");
    expect(screen.queryByRole("button", { name: /new entr/ })).toBeNull();

    act(() => {
      recordStoredEntries(queryClient, { orgSlug: "acme", count: 2, highestSeq: 10 });
      recordStoredEntries(queryClient, { orgSlug: "other", count: 5, highestSeq: 99 });
      recordStoredEntries(queryClient, { orgSlug: "acme", count: 1, highestSeq: 11 });
    });
    const pill = await screen.findByRole("button", { name: "3 new entries in this log" });
    const before = listRequests(requests);
    await user.click(pill);
    await waitFor(() => expect(listRequests(requests)).toBeGreaterThan(before));
    await waitFor(() => expect(screen.queryByRole("button", { name: /new entr/ })).toBeNull());
    // The filter is kept.
    const last = requests.filter((r) => r.url.pathname === "/v1/orgs/acme/audit-logs").at(-1);
    expect(last?.url.searchParams.get("q")).toBe("author:alice");
    expect(window.location.search).toBe("?q=author%3Aalice");

    act(() => recordStoredEntries(queryClient, { orgSlug: "acme", count: 1, highestSeq: 12 }));
    expect(await screen.findByRole("button", { name: "1 new entry in this log" })).toBeTruthy();
  });
});

describe("keyboard: j/k in the details drawer, / for the query bar", () => {
  it("steps to the next and previous entry with j, k and the buttons", async () => {
    window.history.replaceState(null, "", `/orgs/acme/audit-logs?entry=${entries[0]?.id}`);
    mockFetch(api());
    const user = userEvent.setup();
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    const dialog = await screen.findByRole("dialog", { name: "Entry details" });
    await within(dialog).findByText(entries[0]?.id ?? "");
    const previous = within(dialog).getByRole("button", { name: "Previous entry" });
    const next = within(dialog).getByRole("button", { name: "Next entry" });
    expect(previous.getAttribute("aria-disabled")).toBe("true");

    await user.keyboard("j");
    await within(dialog).findByText(entries[1]?.id ?? "");
    expect(window.location.search).toContain(`entry=${entries[1]?.id}`);
    await user.keyboard("j");
    await within(dialog).findByText(entries[2]?.id ?? "");
    expect(next.getAttribute("aria-disabled")).toBe("true");
    await user.keyboard("k");
    await within(dialog).findByText(entries[1]?.id ?? "");
    await user.click(previous);
    await within(dialog).findByText(entries[0]?.id ?? "");
    await user.click(next);
    await within(dialog).findByText(entries[1]?.id ?? "");
  });

  it("focuses the query bar on /, but not while typing in a field", async () => {
    window.history.replaceState(null, "", "/orgs/acme/audit-logs");
    mockFetch(api());
    const user = userEvent.setup();
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await screen.findByText(entries[0]?.description ?? "");
    const input = screen.getByRole("combobox", { name: "Filter with a query" }) as HTMLInputElement;
    expect(document.activeElement).not.toBe(input);
    await user.keyboard("/");
    expect(document.activeElement).toBe(input);
    expect(input.value).toBe("");
    // Typed in the input, / is a character.
    await user.keyboard("a/b");
    expect(input.value).toBe("a/b");
  });
});

describe("views: prepared filters and saved views", () => {
  it("prepares Security, Membership and Tokens as queries the language accepts", () => {
    expect(preparedViews.map((view) => view.name)).toEqual(["Security", "Membership", "Tokens"]);
    for (const view of preparedViews) {
      const parsed = parseQuery(view.q);
      expect(parsed.ok, `${view.name}: ${view.q}`).toBe(true);
      if (parsed.ok) {
        expect(parsed.query.types.length + parsed.query.categories.length).toBeGreaterThan(0);
      }
    }
  });

  it("applies a prepared filter and a saved view, saves the current filter and deletes a view", async () => {
    window.history.replaceState(null, "", "/orgs/acme/audit-logs?range=7d");
    const saved: SavedView = {
      id: "vw_1",
      name: "Bob's changes",
      filters: { q: "author:bob", types: ["org.change_role"], range: "30d" },
      createdAt: "2026-12-01T00:00:00.000Z",
    };
    const requests = mockFetch(api([saved]));
    const user = userEvent.setup();
    renderWithQueryClient(<AuditLogPage org={testOrg} />);
    await screen.findByText(entries[0]?.description ?? "");

    await user.click(screen.getByRole("button", { name: "View: Custom" }));
    await user.click(await screen.findByRole("button", { name: /^Membership/ }));
    // The prepared filter sets q and keeps the time range.
    expect(new URLSearchParams(window.location.search).get("q")).toBe("category:membership");
    expect(new URLSearchParams(window.location.search).get("range")).toBe("7d");
    expect(screen.getByRole("button", { name: "View: Membership" })).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "View: Membership" }));
    await user.click(await screen.findByRole("button", { name: /^Bob's changes/ }));
    const params = new URLSearchParams(window.location.search);
    // Its types join q, where the type picker and the chips read them.
    expect(params.get("q")).toBe("author:bob type:org.change_role");
    expect(params.get("type")).toBeNull();
    expect(params.get("range")).toBe("30d");

    await user.click(screen.getByRole("button", { name: "View: Bob's changes" }));
    await user.type(screen.getByLabelText("Name of the current view"), "Mine{Enter}");
    await waitFor(() =>
      expect(requests.some((r) => r.method === "POST" && r.url.pathname.endsWith("/views"))).toBe(
        true,
      ),
    );
    const post = requests.find((r) => r.method === "POST" && r.url.pathname.endsWith("/views"));
    expect(post?.body).toEqual({
      name: "Mine",
      filters: { q: "author:bob type:org.change_role", types: [], range: "30d" },
    });
    expect(await screen.findByRole("button", { name: /^Mine/ })).toBeTruthy();

    await user.click(screen.getByRole("button", { name: "Delete view Bob's changes" }));
    await waitFor(() =>
      expect(screen.queryByRole("button", { name: /^Bob's changes/ })).toBeNull(),
    );
    expect(
      requests.some((r) => r.method === "DELETE" && r.url.pathname === "/v1/orgs/acme/views/vw_1"),
    ).toBe(true);
  });
});
