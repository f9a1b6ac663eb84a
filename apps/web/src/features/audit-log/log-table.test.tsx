import type { AuditEntry } from "@auditlog/events";
import { fireEvent, render, screen } from "@testing-library/react";
import { describe, expect, it, vi } from "vitest";
import { LogTable } from "./log-table.tsx";

function entry(n: number, actor: string): AuditEntry {
  const at = new Date(Date.UTC(2026, 11, 2, 12, n)).toISOString();
  return {
    id: `evt_${n}`,
    type: "repo.create",
    category: "content",
    description: `${actor} created a repository`,
    occurredAt: at,
    receivedAt: at,
    hiddenByDefault: false,
    actor: {
      type: "user",
      id: `usr_${n}`,
      name: actor,
      avatarUrl: null,
      tokenRole: null,
      tokenLast4: null,
    },
    target: null,
    ip: "81.2.69.0",
    location: null,
    userAgent: null,
    oauth: null,
    data: {},
    seq: n,
    commitment: { salt: "AAAAAAAAAAAAAAAAAAAAAA==" },
  };
}

function renderTable(onOpen = vi.fn()) {
  render(
    <LogTable
      entries={[entry(2, "alice"), entry(1, "bob")]}
      loading={false}
      hasMore={false}
      loadingMore={false}
      loadMoreError={null}
      onLoadMore={() => {}}
      onOpen={onOpen}
      openId={null}
      now={Date.UTC(2026, 11, 2, 13)}
    />,
  );
  return onOpen;
}

describe("LogTable's pivot triggers", () => {
  // First in this file: the page's first paint (after-first-paint.ts) is still to come.
  it("adds plain triggers after the first paint, and mounts no menu until one is clicked", async () => {
    renderTable();
    expect(screen.getAllByRole("row")).toHaveLength(3);
    expect(screen.queryAllByRole("button", { name: /^Filter by / })).toHaveLength(0);
    const triggers = await screen.findAllByRole("button", { name: /^Filter by / });
    // Author, type and IP on each of the two rows, all closed, none owning a panel.
    expect(triggers).toHaveLength(6);
    for (const trigger of triggers) {
      expect(trigger.getAttribute("aria-expanded")).toBe("false");
      expect(trigger.closest(".popover-root")).toBeNull();
    }
  });

  it("opens the clicked value's menu, focused, without opening the entry's details", async () => {
    const onOpen = renderTable();
    fireEvent.click(await screen.findByRole("button", { name: "Filter by author bob" }));
    const exclude = await screen.findByRole("button", { name: "Exclude this author" });
    expect(onOpen).not.toHaveBeenCalled();
    expect(
      screen.getByRole("button", { name: "Filter by author bob" }).getAttribute("aria-expanded"),
    ).toBe("true");
    expect(document.activeElement).toBe(screen.getByRole("button", { name: "Only this author" }));
    expect(exclude.closest('[role="row"]')?.getAttribute("data-index")).toBe("1");
    // Escape closes it and gives focus back to the value's trigger.
    fireEvent.keyDown(exclude, { key: "Escape" });
    expect(screen.queryByRole("button", { name: "Exclude this author" })).toBeNull();
    expect(document.activeElement).toBe(
      screen.getByRole("button", { name: "Filter by author bob" }),
    );
    expect(onOpen).not.toHaveBeenCalled();
  });

  it("leaves Enter on a trigger to the trigger, and opens the details from the row itself", async () => {
    const onOpen = renderTable();
    const [trigger] = await screen.findAllByRole("button", { name: "Filter by type repo.create" });
    if (!trigger) throw new Error("no trigger");
    fireEvent.keyDown(trigger, { key: "Enter" });
    expect(onOpen).not.toHaveBeenCalled();
    const row = trigger.closest<HTMLElement>('[role="row"]');
    if (!row) throw new Error("no row");
    fireEvent.keyDown(row, { key: "Enter" });
    expect(onOpen).toHaveBeenCalledTimes(1);
    fireEvent.click(row.querySelector(".cell-col-description") as HTMLElement);
    expect(onOpen).toHaveBeenCalledTimes(2);
  });
});
