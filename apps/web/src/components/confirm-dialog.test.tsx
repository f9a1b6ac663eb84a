import { render, screen, within } from "@testing-library/react";
import userEvent from "@testing-library/user-event";
import { describe, expect, it, vi } from "vitest";
import { ConfirmDialog } from "./confirm-dialog.tsx";

function renderDialog(overrides: Partial<Parameters<typeof ConfirmDialog>[0]> = {}) {
  const onConfirm = vi.fn();
  const onClose = vi.fn();
  const view = render(
    <>
      <button type="button">Opener</button>
      <ConfirmDialog
        title="Delete stream"
        question={
          <>
            Delete <strong>SOC</strong>? It cannot be undone.
          </>
        }
        confirmLabel="Delete stream"
        pendingLabel="Deleting…"
        pending={false}
        error={null}
        onConfirm={onConfirm}
        onClose={onClose}
        {...overrides}
      />
    </>,
  );
  return { onConfirm, onClose, view };
}

describe("ConfirmDialog", () => {
  it("is a modal dialog named by its title and described by its question, focus inside", () => {
    renderDialog();
    const dialog = screen.getByRole("dialog", { name: "Delete stream" });
    expect(dialog.getAttribute("aria-modal")).toBe("true");
    const described = dialog.getAttribute("aria-describedby") ?? "";
    expect(document.getElementById(described)?.textContent).toBe(
      "Delete SOC? It cannot be undone.",
    );
    expect(dialog.contains(document.activeElement)).toBe(true);
  });

  it("runs onConfirm from its danger button, and onClose from Cancel or Escape", async () => {
    const user = userEvent.setup();
    const { onConfirm, onClose } = renderDialog();
    const dialog = screen.getByRole("dialog", { name: "Delete stream" });
    await user.click(within(dialog).getByRole("button", { name: "Cancel" }));
    expect(onClose).toHaveBeenCalledTimes(1);
    expect(onConfirm).not.toHaveBeenCalled();
    await user.keyboard("{Escape}");
    expect(onClose).toHaveBeenCalledTimes(2);
    await user.click(within(dialog).getByRole("button", { name: "Delete stream" }));
    expect(onConfirm).toHaveBeenCalledTimes(1);
  });

  it("while pending, says so on a disabled confirm button; a refusal is shown as an alert", () => {
    renderDialog({ pending: true, error: new Error("stream is gone") });
    const dialog = screen.getByRole("dialog", { name: "Delete stream" });
    const confirm = within(dialog).getByRole("button", { name: "Deleting…" });
    expect((confirm as HTMLButtonElement).disabled).toBe(true);
    expect(within(dialog).getByRole("alert").textContent).toBe("stream is gone");
  });
});
