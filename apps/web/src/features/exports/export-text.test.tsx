import { render, screen } from "@testing-library/react";
import { useEffect } from "react";
import { describe, expect, it } from "vitest";
import { makeExport } from "../../../test/fixtures.ts";
import { ToastProvider, useToasts } from "../../components/toasts.tsx";
import { exportStartedToast } from "./export-text.ts";

const first = makeExport({
  id: "exp_a",
  query: "type:repo.create created:>=2026-03-01T10:00:00.000Z",
  createdAt: "2026-03-08T10:00:05.000Z",
});
const second = makeExport({ id: "exp_b", query: "author:alice", createdAt: first.createdAt });

function StartTwo() {
  const toasts = useToasts();
  useEffect(() => {
    toasts.show(exportStartedToast(first));
    toasts.show(exportStartedToast(second));
  }, [toasts]);
  return null;
}

describe("the export-started toast", () => {
  it("says the filter in words, not in raw ISO", () => {
    expect(exportStartedToast(first).body).toBe(
      "Filter: Last 7 days · type:repo.create. You will be notified when the file is ready.",
    );
  });

  it("is replaced, not stacked, when another export starts", () => {
    render(
      <ToastProvider>
        <StartTwo />
      </ToastProvider>,
    );
    expect(screen.getAllByText("Export started")).toHaveLength(1);
    expect(screen.getByText(/author:alice/)).toBeTruthy();
  });
});
