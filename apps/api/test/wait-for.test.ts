import { describe, expect, it } from "vitest";
import { waitFor } from "./support/test-stack.ts";

/** The helper every integration test waits with: a deadline must fail the test, not pass it. */
describe("waitFor (test helper)", () => {
  it("answers the first value the condition accepts", async () => {
    let calls = 0;
    const value = await waitFor(
      async () => ++calls,
      (n) => n === 3,
      10_000,
    );
    expect(value).toBe(3);
    expect(calls).toBe(3);
  });

  it("throws at its deadline, naming the last value it saw", async () => {
    let calls = 0;
    await expect(
      waitFor(
        async () => ({ calls: ++calls, state: "still waiting" }),
        () => false,
        300,
      ),
    ).rejects.toThrow(/not met within 300 ms; last value: \{"calls":\d+,"state":"still waiting"\}/);
    expect(calls).toBeGreaterThan(1);
  });
});
