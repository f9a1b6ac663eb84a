import { describe, expect, it } from "vitest";
import { jobCatalog, jobDefinition, jobOptions, producerFor, queueKeys } from "./job-catalog.ts";

const allJobs = queueKeys.flatMap((queue) =>
  Object.keys(jobCatalog[queue].jobs).map((name) => ({ queue, name })),
);

describe("the job catalog", () => {
  it("names every queue and every job once", () => {
    const names = queueKeys.map((q) => jobCatalog[q].defaultName);
    const envKeys = queueKeys.map((q) => jobCatalog[q].envKey);
    expect(new Set(names).size).toBe(queueKeys.length);
    expect(new Set(envKeys).size).toBe(queueKeys.length);
    const jobNames = allJobs.map((job) => job.name);
    expect(new Set(jobNames).size).toBe(jobNames.length);
    expect(queueKeys).toEqual(["ingest", "exports", "notifications", "lifecycle"]);
  });

  it.each(allJobs)(
    "$queue / $name: a schema, a bounded retry policy and a clean-up rule",
    ({ queue, name }) => {
      const { payload, policy } = jobDefinition(queue, name as never);
      expect(typeof payload.safeParse).toBe("function");
      expect(policy.attempts).toBeGreaterThanOrEqual(1);
      expect(policy.attempts).toBeLessThanOrEqual(20);
      if (policy.attempts > 1) expect(policy.backoff?.delay).toBeGreaterThan(0);
      // Finished jobs never pile up in Redis; failed ones are kept for a while, not forever.
      expect(policy.removeOnComplete).toBe(true);
      expect(policy.removeOnFail).toMatchObject({ age: expect.any(Number) });
    },
  );

  it("keeps an accepted ingest batch through a long PostgreSQL outage", () => {
    const { attempts, backoff } = jobCatalog.ingest.jobs["ingest.batch"].policy;
    // Exponential backoff: the retries together wait 500 ms × (2^19 − 1) ≈ 3 days.
    const waitedMs = backoff.delay * (2 ** (attempts - 1) - 1);
    expect(waitedMs).toBeGreaterThan(2 * 24 * 3600 * 1000);
  });

  it("rejects a payload that does not match a job's schema", () => {
    const build = jobDefinition("exports", "export.build").payload;
    expect(build.safeParse({ exportId: "exp_0123456789abcdef01234567" }).success).toBe(true);
    expect(build.safeParse({ exportId: "../etc/passwd" }).success).toBe(false);
    expect(build.safeParse({ exportId: "exp_0123456789abcdef01234567", extra: 1 }).success).toBe(
      false,
    );
  });
});

describe("jobOptions", () => {
  it("is the catalog's policy, with only the id and the retry delay overridable", () => {
    expect(jobOptions("exports", "export.build")).toEqual(
      jobCatalog.exports.jobs["export.build"].policy,
    );
    expect(
      jobOptions("notifications", "notify.webhook", { jobId: "webhook-1", backoffDelayMs: 10 }),
    ).toEqual({
      ...jobCatalog.notifications.jobs["notify.webhook"].policy,
      backoff: { type: "exponential", delay: 10 },
      jobId: "webhook-1",
    });
  });

  it("never gives a job without backoff a delay", () => {
    expect(jobOptions("exports", "export.expire", { backoffDelayMs: 10 })).not.toHaveProperty(
      "backoff",
    );
  });

  it("returns a fresh object, so a caller cannot change the catalog", () => {
    const options = jobOptions("ingest", "ingest.batch");
    options.attempts = 1;
    if (options.backoff) options.backoff.delay = 1;
    if (typeof options.removeOnFail === "object") Object.assign(options.removeOnFail, { age: 1 });
    expect(jobCatalog.ingest.jobs["ingest.batch"].policy).toEqual({
      attempts: 20,
      backoff: { type: "exponential", delay: 500 },
      removeOnComplete: true,
      removeOnFail: { age: 7 * 24 * 3600 },
    });
  });
});

describe("producerFor", () => {
  it("adds each job under its name with the catalog's options", async () => {
    const added: unknown[][] = [];
    const queue = { add: async (...args: unknown[]) => added.push(args) };
    const exports = producerFor(queue, "exports");
    await exports.add(
      "export.build",
      { exportId: "exp_0123456789abcdef01234567" },
      {
        jobId: "exp_0123456789abcdef01234567",
      },
    );
    expect(added).toEqual([
      [
        "export.build",
        { exportId: "exp_0123456789abcdef01234567" },
        {
          ...jobCatalog.exports.jobs["export.build"].policy,
          jobId: "exp_0123456789abcdef01234567",
        },
      ],
    ]);
  });
});
