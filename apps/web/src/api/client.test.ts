import { waitFor } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { mockFetch } from "../../test/render.tsx";
import { apiRequest, type ContractViolation, onContractViolation } from "./client.ts";

/**
 * "idle" checks: the log's pages are returned before the zod walk, which runs when the browser
 * is idle and still reports an answer that breaks the contract.
 */
describe("apiRequest's deferred schema check", () => {
  it("returns the page at once and reports a mismatch with the schema afterwards", async () => {
    const badPage = { entries: [{ id: "evt_1" }], nextCursor: null };
    mockFetch(() => ({ body: badPage }));
    const violations: ContractViolation[] = [];
    const stop = onContractViolation((violation) => violations.push(violation));
    const originalError = console.error;
    console.error = () => {};
    try {
      const page = await apiRequest("/v1/orgs/acme/audit-logs?limit=100", {
        schema: (schemas) => schemas.auditEntryPageSchema,
        check: "idle",
      });
      expect(page).toEqual(badPage);
      await waitFor(() => expect(violations).toHaveLength(1), { timeout: 5_000 });
      expect(violations[0]?.path).toBe("/v1/orgs/acme/audit-logs?limit=100");
    } finally {
      console.error = originalError;
      stop();
    }
  });

  it("refuses the same answer at once when checked now (the default)", async () => {
    mockFetch(() => ({ body: { entries: [{ id: "evt_1" }], nextCursor: null } }));
    await expect(
      apiRequest("/v1/orgs/acme/audit-logs?limit=100", {
        schema: (schemas) => schemas.auditEntryPageSchema,
      }),
    ).rejects.toThrow();
  });

  it("reports nothing for an answer that matches", async () => {
    mockFetch(() => ({ body: { entries: [], nextCursor: null } }));
    const violations: ContractViolation[] = [];
    const stop = onContractViolation((violation) => violations.push(violation));
    try {
      await apiRequest("/v1/x", {
        schema: (schemas) => schemas.auditEntryPageSchema,
        check: "idle",
      });
      await new Promise((resolve) => setTimeout(resolve, 200));
      expect(violations).toEqual([]);
    } finally {
      stop();
    }
  });
});
