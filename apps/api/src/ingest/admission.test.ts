import { describe, expect, it } from "vitest";
import { createIngestAdmission } from "./admission.ts";

describe("createIngestAdmission", () => {
  it("admits at once below the limit, and reads the depth once per poll for many requests", async () => {
    let reads = 0;
    const admission = createIngestAdmission({
      waitingJobs: async () => {
        reads++;
        return 3;
      },
      maxQueuedJobs: 4,
      maxWaitMs: 1000,
      pollMs: 1000,
    });
    const results = await Promise.all(Array.from({ length: 50 }, () => admission.admit()));
    expect(results.every(Boolean)).toBe(true);
    expect(reads).toBe(1);
  });

  it("holds a request until the depth drops, and refuses it when the wait runs out", async () => {
    let depth = 10;
    const admission = createIngestAdmission({
      waitingJobs: async () => depth,
      maxQueuedJobs: 5,
      maxWaitMs: 200,
      pollMs: 10,
    });
    expect(await admission.admit()).toBe(false);
    const held = admission.admit();
    setTimeout(() => {
      depth = 4;
    }, 50);
    expect(await held).toBe(true);
  });

  it("lets requests through when the depth cannot be read, so the enqueue reports the outage", async () => {
    const admission = createIngestAdmission({
      waitingJobs: async () => {
        throw new Error("Connection is closed.");
      },
      maxQueuedJobs: 1,
      maxWaitMs: 100,
    });
    expect(await admission.admit()).toBe(true);
    const hanging = createIngestAdmission({
      waitingJobs: () => new Promise<number>(() => {}),
      maxQueuedJobs: 1,
      maxWaitMs: 5000,
      readTimeoutMs: 50,
    });
    expect(await hanging.admit()).toBe(true);
  });
});
