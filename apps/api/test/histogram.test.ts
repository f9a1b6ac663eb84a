import { type AuditHistogram, histogramSchema } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  getJson,
  insertRows,
  startTestApi,
} from "./support/test-stack.ts";

interface ErrorJson {
  error: { code: string; details?: { path: string; position?: number; token?: string }[] };
}

const hour = 3_600_000;
const day = 24 * hour;
const base = Date.parse("2026-03-01T00:00:00Z");
const at = (ms: number) => new Date(base + ms);

describe("GET /v1/orgs/:org/audit-logs/histogram", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let other: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let reader: string;

  beforeAll(async () => {
    stack = await startTestApi();
    org = (await createOrgWithKey("team", "histogram")).org;
    other = (await createOrgWithKey("team", "histogram-other")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    reader = (await createMemberWithToken(org.slug, "read")).token;
    await insertRows([
      // Day 0: two content entries in hour 1, one membership entry in hour 2.
      entryRow(org.id, { occurredAt: at(1 * hour + 5 * 60_000) }),
      entryRow(org.id, { occurredAt: at(1 * hour + 59 * 60_000) }),
      entryRow(org.id, {
        occurredAt: at(2 * hour),
        type: "org.change_role",
        category: "membership",
        actorName: "bob",
        actorId: "usr_bob",
      }),
      // Day 2: one billing entry, one hidden export entry.
      entryRow(org.id, {
        occurredAt: at(2 * day + 3 * hour),
        type: "billing.update_payment_method",
        category: "billing",
      }),
      entryRow(org.id, {
        occurredAt: at(2 * day + 4 * hour),
        type: "org.audit_log.export",
        category: "audit_log",
        hiddenByDefault: true,
      }),
    ]);
    // Another organisation's entries never count.
    await insertRows([entryRow(other.id, { occurredAt: at(1 * hour) })]);
  });
  afterAll(() => stack.services.close());

  const histogram = (query: string, token = admin) =>
    getJson<AuditHistogram>(stack.app, `/v1/orgs/${org.slug}/audit-logs/histogram${query}`, token);
  const range = `from=${at(0).toISOString()}&to=${at(3 * day).toISOString()}`;

  it("counts entries per day and category, with empty days included", async () => {
    const { status, body } = await histogram(`?interval=day&${range}`);
    expect(status).toBe(200);
    expect(histogramSchema.parse(body)).toEqual({
      interval: "day",
      from: at(0).toISOString(),
      to: at(3 * day).toISOString(),
      timeZone: "UTC",
      total: 4,
      buckets: [
        { start: at(0).toISOString(), counts: { content: 2, membership: 1 } },
        { start: at(day).toISOString(), counts: {} },
        { start: at(2 * day).toISOString(), counts: { billing: 1 } },
      ],
    });
  });

  it("counts per hour, applying q and the filter parameters", async () => {
    const to = at(4 * hour).toISOString();
    const { body } = await histogram(`?interval=hour&from=${at(0).toISOString()}&to=${to}`);
    expect(body.buckets.map((b) => b.counts)).toEqual([{}, { content: 2 }, { membership: 1 }, {}]);
    const byQ = await histogram(
      `?interval=hour&q=${encodeURIComponent(`author:bob created:>=${at(0).toISOString()}`)}&to=${to}`,
    );
    expect(byQ.body.buckets.map((b) => b.counts)).toEqual([{}, {}, { membership: 1 }, {}]);
    const byType = await histogram(
      `?interval=hour&type=repo.create&from=${at(0).toISOString()}&to=${to}`,
    );
    expect(byType.body.buckets.map((b) => b.counts)).toEqual([{}, { content: 2 }, {}, {}]);
  });

  it("shows hidden entries only when asked", async () => {
    const { body } = await histogram(`?interval=day&includeHidden=true&${range}`);
    expect(body.buckets[2]?.counts).toEqual({ billing: 1, audit_log: 1 });
    const byType = await histogram(`?interval=day&q=type:org.audit_log.export&${range}`);
    expect(byType.body.buckets[2]?.counts).toEqual({ audit_log: 1 });
  });

  it("without a lower bound starts at the oldest matching entry, and totals the whole filter", async () => {
    const daily = await histogram("?");
    expect(daily.status).toBe(200);
    expect(daily.body.interval).toBe("day");
    expect(daily.body.from).toBe(at(0).toISOString());
    expect(Date.parse(daily.body.to)).toBeGreaterThanOrEqual(Date.now() - 60_000);
    expect(daily.body.total).toBe(4);
    expect(daily.body.buckets[0]?.counts).toEqual({ content: 2, membership: 1 });
    const drawn = daily.body.buckets.reduce(
      (sum, bucket) => sum + Object.values(bucket.counts).reduce((a, b) => a + b, 0),
      0,
    );
    expect(drawn).toBe(4);

    const byAuthor = await histogram(`?q=${encodeURIComponent("author:bob")}`);
    expect(byAuthor.body.from).toBe(at(0).toISOString()); // bob's one entry, its UTC day
    expect(byAuthor.body.total).toBe(1);
    // An upper bound only: still from the oldest entry.
    const until = await histogram(`?interval=day&to=${at(day).toISOString()}`);
    expect(until.body.from).toBe(at(0).toISOString());
    expect(until.body.total).toBe(3);
    // Nothing matches: the interval's default span, empty.
    const none = await histogram(`?interval=day&q=${encodeURIComponent("author:nobody")}`);
    expect(none.body.total).toBe(0);
    expect(none.body.buckets.length).toBeGreaterThanOrEqual(30);
    expect(none.body.buckets.length).toBeLessThanOrEqual(31);
  });

  it("keeps at most 1,000 buckets, the most recent, while the total counts the whole range", async () => {
    const wide = await histogram(`?interval=hour&from=2020-01-01&to=${at(3 * day).toISOString()}`);
    expect(wide.body.buckets).toHaveLength(1000);
    expect(wide.body.buckets.at(-1)?.start).toBe(at(3 * day - hour).toISOString());
    expect(wide.body.buckets.at(-1 - 20)?.counts).toEqual({ billing: 1 });
    expect(wide.body.total).toBe(4);
    const open = await histogram("?interval=minute");
    expect(open.body.buckets).toHaveLength(1000);
    expect(open.body.total).toBe(4);
    expect(Date.parse(open.body.from) % 60_000).toBe(0);
  });

  it("picks a bucket size that fits the range with interval=auto: minutes under a few hours", async () => {
    const minutes = await histogram(
      `?interval=auto&from=${at(hour).toISOString()}&to=${at(3 * hour).toISOString()}`,
    );
    expect(minutes.body.interval).toBe("minute");
    expect(minutes.body.buckets).toHaveLength(120);
    expect(minutes.body.buckets[5]).toEqual({
      start: at(hour + 5 * 60_000).toISOString(),
      counts: { content: 1 },
    });
    expect(minutes.body.buckets[60]?.counts).toEqual({ membership: 1 });
    expect(minutes.body.total).toBe(3);
    const days = await histogram(`?interval=auto&${range}`);
    expect(days.body.interval).toBe("hour");
    expect(days.body.buckets).toHaveLength(72);
    // All time: from March 2026 to now is months: days or weeks, never the last 30 days only.
    const all = await histogram("?interval=auto");
    expect(["day", "week"]).toContain(all.body.interval);
    expect(all.body.total).toBe(4);
    expect(Date.parse(all.body.from)).toBeLessThanOrEqual(at(hour).getTime());
  });

  it("aligns buckets in the time zone asked for, summer time included", async () => {
    const newYork = await histogram(`?interval=day&tz=America/New_York&${range}`);
    expect(newYork.status).toBe(200);
    expect(newYork.body.timeZone).toBe("America/New_York");
    // Local midnight in New York is 05:00 UTC in winter; the first three entries fall on 28 Feb.
    expect(newYork.body.buckets).toEqual([
      { start: "2026-02-28T05:00:00.000Z", counts: { content: 2, membership: 1 } },
      { start: "2026-03-01T05:00:00.000Z", counts: {} },
      { start: "2026-03-02T05:00:00.000Z", counts: { billing: 1 } },
      { start: "2026-03-03T05:00:00.000Z", counts: {} },
    ]);
    expect(newYork.body.total).toBe(4);
    // Paris moves to summer time on 29 March 2026: that day has 23 hours.
    const paris = await histogram(
      "?interval=day&tz=Europe/Paris&from=2026-03-28T00:00:00%2B01:00&to=2026-03-31T00:00:00%2B02:00",
    );
    expect(paris.body.buckets.map((bucket) => bucket.start)).toEqual([
      "2026-03-27T23:00:00.000Z",
      "2026-03-28T23:00:00.000Z",
      "2026-03-29T22:00:00.000Z",
    ]);
    const parisHours = await histogram(
      "?interval=hour&tz=Europe/Paris&from=2026-03-29T00:00:00Z&to=2026-03-29T03:00:00Z",
    );
    expect(parisHours.body.buckets.map((bucket) => bucket.start)).toEqual([
      "2026-03-29T00:00:00.000Z",
      "2026-03-29T01:00:00.000Z",
      "2026-03-29T02:00:00.000Z",
    ]);
  });

  it("answers 400 for a bad q or interval, and 403 for non-admins", async () => {
    const badQ = await getJson<ErrorJson>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs/histogram?q=${encodeURIComponent("type:repo.explode")}`,
      admin,
    );
    expect(badQ.status).toBe(400);
    expect(badQ.body.error.details?.[0]).toMatchObject({
      path: "q",
      position: 0,
      token: "type:repo.explode",
    });
    const badInterval = await getJson<ErrorJson>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs/histogram?interval=fortnight`,
      admin,
    );
    expect(badInterval.status).toBe(400);
    expect(badInterval.body.error.details?.[0]?.path).toBe("interval");
    for (const tz of ["Mars/Olympus_Mons", "UTC;DROP", "../etc/passwd"]) {
      const badZone = await getJson<ErrorJson>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs/histogram?tz=${encodeURIComponent(tz)}`,
        admin,
      );
      expect(badZone.status).toBe(400);
      expect(badZone.body.error.details?.[0]?.path).toBe("tz");
    }
    expect((await histogram("?", reader)).status).toBe(403);
    expect((await histogram("?", null as unknown as string)).status).toBe(401);
  });
});
