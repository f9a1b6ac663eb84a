import type { Member } from "@auditlog/events";
import { screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { afterEach, describe, expect, it, vi } from "vitest";
import { mockFetch, renderWithQueryClient, testOrg } from "../../../../test/render.tsx";
import { MembersSection } from "./members-section.tsx";

const ada: Member = {
  userId: "usr_ada",
  email: "ada@acme.test",
  name: "Ada",
  role: "admin",
  joinedAt: "2026-01-01T00:00:00.000Z",
};
const bob: Member = {
  ...ada,
  userId: "usr_bob",
  email: "bob@acme.test",
  name: "Bob",
  role: "write",
};

function api() {
  const members = new Map([ada, bob].map((m) => [m.userId, { ...m }]));
  return mockFetch((request) => {
    const path = request.url.pathname;
    if (path === "/v1/orgs/acme/members" && request.method === "GET") {
      return { body: { members: [...members.values()], nextCursor: null } };
    }
    const match = /^\/v1\/orgs\/acme\/members\/(usr_\w+)$/.exec(path);
    const member = match?.[1] ? members.get(match[1]) : undefined;
    if (member && request.method === "PATCH") {
      const { role } = request.body as { role: Member["role"] };
      const admins = [...members.values()].filter((m) => m.role === "admin").length;
      if (member.role === "admin" && admins === 1) {
        return {
          status: 409,
          body: {
            error: {
              code: "conflict",
              message: "this is the last admin of acme; make someone else an admin first",
            },
          },
        };
      }
      const oldRole = member.role;
      member.role = role;
      return { body: { ...member, oldRole } };
    }
    return undefined;
  });
}

const row = async (name: string) => (await screen.findByText(name)).closest("tr") as HTMLElement;

describe("Settings › Members", () => {
  afterEach(() => {
    vi.unstubAllGlobals();
  });

  it("lists each member with their role", async () => {
    api();
    renderWithQueryClient(<MembersSection org={testOrg} />);
    const bobRow = await row("Bob");
    expect(within(bobRow).getByText("bob@acme.test")).toBeTruthy();
    const select = within(bobRow).getByRole("combobox", { name: "Role of Bob" });
    expect((select as HTMLSelectElement).value).toBe("write");
    expect([...(select as HTMLSelectElement).options].map((option) => option.value)).toEqual([
      "admin",
      "auditor",
      "write",
      "read",
    ]);
    expect((within(await row("Ada")).getByRole("combobox") as HTMLSelectElement).value).toBe(
      "admin",
    );
  });

  it("shows 100 members at first and the next ones on asking, each once", async () => {
    const many = Array.from({ length: 130 }, (_, i) => ({
      ...bob,
      userId: `usr_m${String(i).padStart(3, "0")}`,
      email: `m${i}@acme.test`,
      name: `Member ${String(i).padStart(3, "0")}`,
    }));
    const requests = mockFetch((request) => {
      if (request.url.pathname !== "/v1/orgs/acme/members") return undefined;
      const after = request.url.searchParams.get("cursor");
      const start = after ? Number(after) : 0;
      const page = many.slice(start, start + 100);
      const next = start + 100 < many.length ? String(start + 100) : null;
      return { body: { members: page, nextCursor: next } };
    });
    const user = userEvent.setup();
    renderWithQueryClient(<MembersSection org={testOrg} />);
    await screen.findByText("Member 099");
    expect(screen.queryByText("Member 100")).toBeNull();
    await user.click(screen.getByRole("button", { name: "Show more members" }));
    await screen.findByText("Member 129");
    expect(screen.getAllByRole("row").length - 1).toBe(130);
    expect(screen.queryByRole("button", { name: "Show more members" })).toBeNull();
    expect(requests.map((r) => r.url.searchParams.get("cursor"))).toEqual([null, "100"]);
  });

  it("changes a role with the select and its button, and shows the new role", async () => {
    const requests = api();
    const user = userEvent.setup();
    renderWithQueryClient(<MembersSection org={testOrg} />);
    const bobRow = await row("Bob");
    const apply = within(bobRow).getByRole("button", { name: "Change role of Bob" });
    // Nothing to send while the role is the member's own.
    expect((apply as HTMLButtonElement).disabled).toBe(true);
    await user.selectOptions(within(bobRow).getByRole("combobox"), "auditor");
    expect(requests.some((r) => r.method === "PATCH")).toBe(false);
    await user.click(apply);
    expect(await within(bobRow).findByText("Changed to auditor.")).toBeTruthy();
    expect(requests.find((r) => r.method === "PATCH")).toMatchObject({
      url: expect.objectContaining({ pathname: "/v1/orgs/acme/members/usr_bob" }),
      body: { role: "auditor" },
    });
    await vi.waitFor(() =>
      expect(requests.filter((r) => r.method === "GET").length).toBeGreaterThan(1),
    );
  });

  it("says plainly why the last admin cannot be demoted, and keeps their role shown", async () => {
    api();
    const user = userEvent.setup();
    renderWithQueryClient(<MembersSection org={testOrg} />);
    const adaRow = await row("Ada");
    const select = within(adaRow).getByRole("combobox", { name: "Role of Ada" });
    await user.selectOptions(select, "auditor");
    await user.click(within(adaRow).getByRole("button", { name: "Change role of Ada" }));
    const alert = await within(adaRow).findByRole("alert");
    expect(alert.textContent).toBe(
      "Ada is the organisation's last admin: make another member an admin first.",
    );
    expect((select as HTMLSelectElement).value).toBe("admin");
    expect(select.getAttribute("aria-invalid")).toBe("true");
  });

  it("shows why the list could not load (the API refuses non-admins)", async () => {
    mockFetch(() => ({
      status: 403,
      body: { error: { code: "forbidden", message: "only admins of acme may do this" } },
    }));
    renderWithQueryClient(<MembersSection org={testOrg} />);
    expect((await screen.findByRole("alert")).textContent).toContain(
      "Could not load the members: only admins of acme may do this",
    );
  });
});
