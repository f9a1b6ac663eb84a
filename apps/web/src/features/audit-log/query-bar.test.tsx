import { fireEvent, render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { QueryBar } from "./query-bar.tsx";

function setup(props: Partial<Parameters<typeof QueryBar>[0]> = {}) {
  const onSubmit = vi.fn();
  const user = userEvent.setup();
  render(<QueryBar value="" onSubmit={onSubmit} {...props} />);
  const input = screen.getByRole("combobox", { name: "Filter with a query" }) as HTMLInputElement;
  return { user, input, onSubmit };
}

describe("QueryBar", () => {
  it("completes keys, then event types grouped by category from the catalog", async () => {
    const { user, input } = setup();
    await user.type(input, "ty");
    const listbox = screen.getByRole("listbox", { name: "Suggestions" });
    expect(within(listbox).getByRole("option", { name: /^type:/ })).toBeTruthy();

    await user.keyboard("{ArrowDown}{Enter}");
    expect(input.value).toBe("type:");
    // Values of `type:` come straight after, grouped by the catalog's categories.
    const content = screen.getByRole("group", { name: "Content & resources" });
    expect(within(content).getByRole("option", { name: /repo\.create/ })).toBeTruthy();
    expect(screen.getByRole("group", { name: "Wildcards" })).toBeTruthy();

    await user.type(input, "repo.cre");
    const option = screen.getByRole("option", { name: /^repo\.create\b/ });
    await user.click(option);
    expect(input.value).toBe("type:repo.create ");
    expect(screen.queryByRole("listbox")).toBeNull();
  });

  it("completes the values of closed sets and recently used values", async () => {
    const { user, input } = setup({ recentValues: { author: ["alice", "bob"] } });
    await user.type(input, "author:b");
    expect(screen.getByRole("group", { name: "Recent" })).toBeTruthy();
    expect(screen.getByRole("option", { name: "bob" })).toBeTruthy();
    expect(screen.queryByRole("option", { name: "alice" })).toBeNull();
    await user.keyboard("{ArrowDown}{Tab}");
    expect(input.value).toBe("author:bob ");

    await user.type(input, "-cat");
    await user.keyboard("{ArrowDown}{Enter}");
    expect(input.value).toBe("author:bob -category:");
    await user.type(input, "bil");
    await user.keyboard("{ArrowDown}{Enter}");
    expect(input.value).toBe("author:bob -category:billing ");
  });

  it("applies a valid query with Enter", async () => {
    const { user, input, onSubmit } = setup();
    await user.type(input, "author:alice type:repo.create");
    await user.keyboard("{Escape}{Enter}");
    expect(onSubmit).toHaveBeenCalledWith("author:alice type:repo.create");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("does not apply a bad query: it shows the error at the bad token and selects it", async () => {
    const { user, input, onSubmit } = setup();
    fireEvent.change(input, {
      target: { value: "author:alice created:>=yesterday type:repo.create" },
    });
    await user.click(screen.getByRole("button", { name: "Apply" }));

    expect(onSubmit).not.toHaveBeenCalled();
    const alert = screen.getByRole("alert");
    expect(alert.textContent).toContain('Invalid date "yesterday"');
    const mark = alert.querySelector("mark");
    expect(mark?.textContent).toBe("created:>=yesterday");
    expect(mark?.previousSibling?.textContent).toBe("author:alice ");
    expect(input.getAttribute("aria-invalid")).toBe("true");
    expect(input.getAttribute("aria-describedby")).toBe(alert.id);
    expect([input.selectionStart, input.selectionEnd]).toEqual([13, 32]);

    // Editing clears the error.
    await user.type(input, "x");
    expect(screen.queryByRole("alert")).toBeNull();
  });

  it("shows the API's 400 for the applied query at its position", () => {
    render(
      <QueryBar
        value="type:repo.create ip:999.1.2.3"
        onSubmit={() => {}}
        serverError={{
          path: "q",
          message: '"999.1.2.3" is not an IP address or prefix at position 17',
          position: 17,
          token: "ip:999.1.2.3",
        }}
      />,
    );
    const alert = screen.getByRole("alert");
    expect(alert.querySelector("mark")?.textContent).toBe("ip:999.1.2.3");
    expect(alert.textContent).toContain("not an IP address");
  });
});
