import { type FeedPage, feedPageSchema } from "@auditlog/events";
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
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const hour = 3_600_000;

describe("GET /v1/orgs/:org/audit-logs/feed", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  /** The ids of the organisation's entries in the order they were written (= seq order). */
  const written: string[] = [];
  const hiddenIds = new Set<string>();
  const otherIds = new Set<string>();

  beforeAll(async () => {
    stack = await startTestApi();
    org = (await createOrgWithKey("team", "feed")).org;
    const other = (await createOrgWithKey("team", "feed-other")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    // 150 entries in 15 writes, interleaved with another organisation's, each occurring
    // further in the past than the one before: seq order is the opposite of time order, and
    // every third entry is of a hidden type.
    const now = Date.now();
    for (let batch = 0; batch < 15; batch++) {
      const rows = Array.from({ length: 10 }, (_, i) => {
        const n = batch * 10 + i;
        const hidden = n % 3 === 0;
        return entryRow(org.id, {
          id: `feed-${String(n).padStart(3, "0")}`,
          occurredAt: new Date(now - n * hour),
          ...(hidden
            ? { type: "org.audit_log.export", category: "audit_log", hiddenByDefault: true }
            : {}),
        });
      });
      for (const row of rows) {
        written.push(row.id);
        if (row.hiddenByDefault) hiddenIds.add(row.id);
      }
      const otherRow = entryRow(other.id, { id: `other-${batch}`, description: "other secret" });
      otherIds.add(otherRow.id);
      await insertRows([otherRow]);
      await insertRows(rows);
    }
  });
  afterAll(() => stack.services.close());

  const feed = (query: string, token: string | null = admin, slug = org.slug) =>
    getJson<FeedPage & ErrorJson>(stack.app, `/v1/orgs/${slug}/audit-logs/feed${query}`, token);

  async function page(query: string) {
    const { status, body } = await feed(query);
    expect(status, query).toBe(200);
    return feedPageSchema.parse(body).entries;
  }

  it("answers the first 100 entries by default, ascending by seq from 1, hidden types included", async () => {
    const entries = await page("");
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 100 }, (_, i) => i + 1));
    expect(entries.map((e) => e.id)).toEqual(written.slice(0, 100));
    const hiddenSeen = entries.filter((e) => e.hiddenByDefault).map((e) => e.id);
    expect(hiddenSeen).toEqual(written.slice(0, 100).filter((id) => hiddenIds.has(id)));
    expect(hiddenSeen.length).toBe(34);
    // Ordered by seq, not by the sender's clock: here every later entry occurred earlier.
    expect(Date.parse(entries[0]?.occurredAt ?? "")).toBeGreaterThan(
      Date.parse(entries[99]?.occurredAt ?? ""),
    );
  });

  it("answers what follows `after`, at most `limit`, and nothing past the end", async () => {
    expect((await page("?after=10&limit=5")).map((e) => e.seq)).toEqual([11, 12, 13, 14, 15]);
    expect((await page("?after=147&limit=1000")).map((e) => e.id)).toEqual(written.slice(147));
    expect((await page("?limit=1000")).map((e) => e.id)).toEqual(written);
    expect(await page("?after=150")).toEqual([]);
    expect(await page("?after=9007199254740991")).toEqual([]);
    expect((await page("?after=0&limit=1")).map((e) => e.seq)).toEqual([1]);
  });

  it("tailed with after = the last seq seen, gives every entry once, and never another organisation's", async () => {
    const seen: string[] = [];
    let after = 0;
    for (;;) {
      const entries = await page(`?after=${after}&limit=7`);
      if (entries.length === 0) break;
      expect(entries[0]?.seq).toBe(after + 1);
      seen.push(...entries.map((e) => e.id));
      after = entries.at(-1)?.seq ?? after;
    }
    expect(seen).toEqual(written);
    expect(seen.some((id) => otherIds.has(id))).toBe(false);
  });

  it("answers 400 naming the parameter for a bad after or limit", async () => {
    const bad: [string, string][] = [
      ["?after=-1", "after"],
      ["?after=abc", "after"],
      ["?after=1.5", "after"],
      ["?after=1e3", "after"],
      ["?after=", "after"],
      ["?after=%00", "after"],
      ["?after=99999999999999999", "after"],
      ["?limit=0", "limit"],
      ["?limit=1001", "limit"],
      ["?limit=ten", "limit"],
      ["?after=5&limit=-3", "limit"],
    ];
    for (const [query, field] of bad) {
      const { status, body } = await feed(query);
      expect(status, query).toBe(400);
      expect(body.error.code, query).toBe("bad_request");
      expect(
        body.error.details?.map((d) => d.path),
        query,
      ).toEqual([field]);
    }
  });

  it("is for the organisation's admins only, as the list API", async () => {
    const writer = (await createMemberWithToken(org.slug, "write")).token;
    const reader = (await createMemberWithToken(org.slug, "read")).token;
    const { apiKey } = await createOrgWithKey("team", "feed-key");
    const stranger = await createOrgWithKey("team", "feed-stranger");
    const strangerAdmin = (await createMemberWithToken(stranger.org.slug, "admin")).token;
    const free = (await createOrgWithKey("free", "feed-free")).org;
    const freeAdmin = (await createMemberWithToken(free.slug, "admin")).token;

    expect((await feed("", null)).status).toBe(401);
    expect((await feed("", apiKey)).status).toBe(401);
    expect((await feed("", writer)).status).toBe(403);
    expect((await feed("", reader)).status).toBe(403);
    const foreign = await feed("", strangerAdmin);
    const missing = await feed("", admin, "no-such-org-feed");
    expect(foreign.status).toBe(404);
    expect(missing.status).toBe(404);
    expect(foreign.body.error.message).toBe(missing.body.error.message);
    const freeAnswer = await feed("", freeAdmin, free.slug);
    expect(freeAnswer.status).toBe(403);
    expect(freeAnswer.body.error.message).toMatch(/free plan/);
  });
});
