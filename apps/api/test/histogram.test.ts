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

  it("bounds the range: default spans, aligned starts and at most 1,000 buckets", async () => {
    const hourly = await histogram("?interval=hour");
    expect(hourly.status).toBe(200);
    expect(hourly.body.buckets.length).toBeGreaterThanOrEqual(48);
    expect(hourly.body.buckets.length).toBeLessThanOrEqual(49);
    expect(Date.parse(hourly.body.from) % hour).toBe(0);

    const daily = await histogram("?");
    expect(daily.body.interval).toBe("day");
    expect(daily.body.buckets.length).toBeGreaterThanOrEqual(30);
    expect(daily.body.buckets.length).toBeLessThanOrEqual(31);

    const wide = await histogram(`?interval=hour&from=2020-01-01&to=${at(3 * day).toISOString()}`);
    expect(wide.body.buckets).toHaveLength(1000);
    expect(wide.body.buckets.at(-1)?.start).toBe(at(3 * day - hour).toISOString());
    expect(wide.body.buckets.at(-1 - 20)?.counts).toEqual({ billing: 1 });
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
      `/v1/orgs/${org.slug}/audit-logs/histogram?interval=week`,
      admin,
    );
    expect(badInterval.status).toBe(400);
    expect(badInterval.body.error.details?.[0]?.path).toBe("interval");
    expect((await histogram("?", reader)).status).toBe(403);
    expect((await histogram("?", null as unknown as string)).status).toBe(401);
  });
});
