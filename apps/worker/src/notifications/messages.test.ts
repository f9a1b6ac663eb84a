import { describe, expect, it } from "vitest";
import { renderNotification } from "./messages.ts";

const finished = {
  id: "exp_1",
  orgId: "org_1",
  requestedBy: "usr_1",
  format: "ndjson",
  status: "ready" as const,
  rowsWritten: 1234,
  fileSize: 48_200,
  error: null,
  query: "type:repo.create created:>=2026-03-01T10:00:00.000Z",
  createdAt: new Date("2026-03-08T10:00:03.000Z"),
};

describe("export notifications", () => {
  it("say the filter in words and the size in decimal units", () => {
    expect(renderNotification(finished, "acme").body).toBe(
      "Your NDJSON export of acme's audit log is ready: 1,234 entries, 48 KB. Filter: Last 7 days · type:repo.create.",
    );
  });

  it("write a range that is no preset in UTC, and say so", () => {
    const body = renderNotification(
      {
        ...finished,
        query: "created:>=2026-02-01T08:30:00.000Z created:<2026-02-03T08:30:00.000Z",
      },
      "acme",
    ).body;
    expect(body).toContain("Filter: 1 Feb 2026, 08:30 UTC – 3 Feb 2026, 08:30 UTC.");
    expect(body).not.toMatch(/\d{4}-\d{2}-\d{2}T/);
  });
});
