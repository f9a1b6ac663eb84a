import { validateEvent } from "@auditlog/events";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import { describe, expect, it } from "vitest";
import { noGeolocation } from "../geo/geolocate.ts";
import { buildEntries } from "./build-entries.ts";

const receivedAt = "2026-11-27T10:00:00.000Z";

function repoCreate(id: string, overrides: Record<string, unknown> = {}) {
  return {
    id,
    occurredAt: "2026-11-27T09:59:59.123Z",
    type: "repo.create",
    actor: { type: "user", id: "usr_1", name: "alice" },
    target: { type: "model", id: "acme/bert", name: "acme/bert" },
    data: { repo: { type: "model", name: "acme/bert" } },
    context: { ip: "198.51.100.77", userAgent: "test/1" },
    ...overrides,
  };
}

/** Passes the structural check of the trusted path, but breaks a rule of its type's data. */
const breaksARule = repoCreate("evt_rule", { data: { repo: { type: "spaceship", name: "x" } } });

function job(events: unknown[], catalog?: string): IngestBatchJob {
  return { orgId: "org_1", receivedAt, ...(catalog ? { catalog } : {}), events };
}

describe("buildEntries", () => {
  it("builds the same row from a stamped job as from an unstamped one", () => {
    const event = repoCreate("evt_same");
    expect(validateEvent(event).ok).toBe(true);
    const trusted = buildEntries(job([event], catalogFingerprint), noGeolocation, "job:1");
    const checked = buildEntries(job([event]), noGeolocation, "job:2");
    expect(trusted.deadLetters).toEqual([]);
    expect(trusted.entries).toEqual(checked.entries);
    expect(trusted.entries[0]).toMatchObject({
      id: "evt_same",
      category: "content",
      description: expect.stringContaining("alice"),
      ip: "198.51.100.0",
      occurredAt: new Date("2026-11-27T09:59:59.123Z"),
    });
  });

  it("validates every event of a job from another catalog, or with no stamp", () => {
    expect(validateEvent(breaksARule).ok).toBe(false);
    for (const catalog of [undefined, "0123456789abcdef"]) {
      const built = buildEntries(
        job([repoCreate("evt_ok"), breaksARule], catalog),
        noGeolocation,
        "job:3",
      );
      expect(built.entries.map((e) => e.id)).toEqual(["evt_ok"]);
      expect(built.deadLetters).toMatchObject([
        {
          eventId: "evt_rule",
          reason: expect.stringContaining("events[1].data"),
          payload: { context: { ip: "198.51.100.0" } },
        },
      ]);
    }
  });

  it("trusts the API's validation for a job stamped with this catalog's fingerprint", () => {
    const built = buildEntries(job([breaksARule], catalogFingerprint), noGeolocation, "job:4");
    expect(built.entries.map((e) => e.id)).toEqual(["evt_rule"]);
  });

  it("still validates, and dead-letters, what a stamped job holds in a shape the API never writes", () => {
    const malformed = [
      "not an object",
      repoCreate("evt_no_actor", { actor: undefined }),
      repoCreate("evt_unknown_type", { type: "repo.teleport" }),
      repoCreate("evt_bad_time", { occurredAt: "yesterday" }),
      repoCreate("evt_bad_ip", { context: { ip: "not-an-address" } }),
      { ...repoCreate("evt_no_id"), id: undefined },
      { ...repoCreate("evt_empty_id"), id: "" },
    ];
    const built = buildEntries(
      job([...malformed, repoCreate("evt_fine")], catalogFingerprint),
      noGeolocation,
      "job:5",
    );
    expect(built.entries.map((e) => e.id)).toEqual(["evt_fine"]);
    expect(built.deadLetters).toHaveLength(malformed.length);
    expect(JSON.stringify(built.deadLetters)).not.toContain("198.51.100.77");
  });

  it("holds the rules on the whole event in a job from another catalog: NUL, depth, size, time", () => {
    let deep: unknown = "leaf";
    for (let level = 0; level < 40; level++) deep = { deep };
    const events = [
      repoCreate("evt_nul", { actor: { type: "user", id: "usr_1", name: "ali\u0000ce" } }),
      repoCreate("evt_deep", { data: { repo: { type: "model", name: "acme/bert" }, deep } }),
      repoCreate("evt_big", {
        data: { repo: { type: "model", name: "a/b" }, pad: "x".repeat(70_000) },
      }),
      // The job's receivedAt is the API's time: the window is measured from it, not from now.
      repoCreate("evt_far_ahead", { occurredAt: "2026-11-29T10:00:00.001Z" }),
      repoCreate("evt_day_ahead", { occurredAt: "2026-11-28T10:00:00.000Z" }),
      repoCreate("evt_http_avatar", {
        actor: { type: "user", id: "usr_1", name: "alice", avatarUrl: "http://127.0.0.1/a.png" },
      }),
    ];
    const built = buildEntries(job(events, "0123456789abcdef"), noGeolocation, "job:6");
    expect(built.entries.map((e) => e.id)).toEqual(["evt_day_ahead"]);
    expect(built.positions).toEqual([4]);
    expect(built.deadLetters.map((d) => [d.eventId, d.issues])).toEqual([
      ["evt_nul", [{ path: "events[0].actor.name", message: expect.stringMatching(/NUL/) }]],
      [
        "evt_deep",
        [
          {
            path: expect.stringMatching(/^events\[1\]\.data(\.deep)+$/),
            message: expect.stringMatching(/levels deep/),
          },
        ],
      ],
      ["evt_big", [{ path: "events[2]", message: expect.stringMatching(/65,536/) }]],
      [
        "evt_far_ahead",
        [{ path: "events[3].occurredAt", message: expect.stringMatching(/one day/) }],
      ],
      ["evt_http_avatar", [{ path: "events[5].actor.avatarUrl", message: "must be an https URL" }]],
    ]);
  });
});
