import { driversOf } from "@auditlog/db/drivers";
import { bypassingAppendOnly } from "@auditlog/db/testing";
import type { AuditEntry, AuditEntryPage } from "@auditlog/events";
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
  error: {
    code: string;
    message: string;
    details?: { path: string; position?: number; token?: string }[];
  };
}

const minute = 60_000;
const base = Date.parse("2026-03-01T12:00:00Z");
const at = (minutes: number) => new Date(base + minutes * minute);

describe("GET /v1/orgs/:org/audit-logs", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let other: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  let otherAdmin: string;
  let otherEntryId: string;

  beforeAll(async () => {
    stack = await startTestApi();
    org = (await createOrgWithKey("team", "query")).org;
    other = (await createOrgWithKey("enterprise", "query-other")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    otherAdmin = (await createMemberWithToken(other.slug, "admin")).token;

    await insertRows([
      entryRow(org.id, { id: "e1", occurredAt: at(1), type: "repo.create", category: "content" }),
      entryRow(org.id, {
        id: "e2",
        occurredAt: at(2),
        type: "org.change_role",
        category: "membership",
        actorId: "usr_bob",
        actorName: "bob",
        targetType: "user",
        targetId: "carol",
        targetName: "carol",
        description: "bob changed carol's role from read to write",
        ip: "198.51.100.0",
        countryCode: "US",
        region: "California",
        city: "San Francisco",
      }),
      entryRow(org.id, {
        id: "e3",
        occurredAt: at(3),
        type: "org.update_settings",
        category: "organization",
        description: "alice updated the organization settings",
        ip: "2001:db8:1::",
        countryCode: "DE",
      }),
      entryRow(org.id, {
        id: "e4",
        occurredAt: at(4),
        type: "org.settings.sso.enable",
        category: "organization",
        description: "alice enabled SSO",
        ip: null,
        countryCode: null,
        region: null,
        city: null,
      }),
      entryRow(org.id, {
        id: "e5",
        occurredAt: at(5),
        type: "org.sso_login",
        category: "organization",
        actorType: "token",
        actorId: "tok_1",
        actorName: "ci-token",
        description: "ci-token signed in with SSO",
      }),
      entryRow(org.id, {
        id: "e6",
        occurredAt: at(6),
        type: "org.audit_log.export",
        category: "audit_log",
        hiddenByDefault: true,
        description: "alice exported the audit log",
      }),
    ]);
    const otherRow = entryRow(other.id, { occurredAt: at(2), description: "other org secret" });
    otherEntryId = otherRow.id;
    // Between e4 and e5: a cursor after it points into the middle of this organisation's log.
    const otherNewer = entryRow(other.id, {
      occurredAt: new Date(at(4).getTime() + 30_000),
      description: "other org secret",
    });
    await insertRows([otherRow, otherNewer]);
  });
  afterAll(() => stack.services.close());

  const list = (query: string, token = admin, slug = org.slug) =>
    getJson<AuditEntryPage>(stack.app, `/v1/orgs/${slug}/audit-logs${query}`, token);
  const ids = async (query: string) => {
    const { status, body } = await list(query);
    expect(status).toBe(200);
    return body.entries.map((e) => e.id);
  };

  it("lists newest first, hiding the audit log's own events by default", async () => {
    expect(await ids("")).toEqual(["e5", "e4", "e3", "e2", "e1"]);
    expect(await ids("?includeHidden=true")).toEqual(["e6", "e5", "e4", "e3", "e2", "e1"]);
    expect(await ids("?q=type:org.audit_log.export")).toEqual(["e6"]);
  });

  it("returns entries with who, what, where and when", async () => {
    const { body } = await list("?q=type:org.change_role");
    expect(body.entries[0]).toEqual({
      id: "e2",
      type: "org.change_role",
      category: "membership",
      description: "bob changed carol's role from read to write",
      occurredAt: at(2).toISOString(),
      receivedAt: at(2).toISOString(),
      hiddenByDefault: false,
      actor: {
        type: "user",
        id: "usr_bob",
        name: "bob",
        avatarUrl: null,
        tokenRole: null,
        tokenLast4: null,
      },
      target: { type: "user", id: "carol", name: "carol" },
      ip: "198.51.100.0",
      location: {
        formatted: "San Francisco, California, US",
        countryCode: "US",
        region: "California",
        city: "San Francisco",
      },
      userAgent: "test-agent/1.0",
      oauth: null,
      data: {},
      // Its place in the organisation's log (e1 was stored first) and its leaf's salt.
      seq: 2,
      commitment: { salt: expect.stringMatching(/^[A-Za-z0-9+/]{22}==$/) },
    } satisfies AuditEntry);
  });

  it.each([
    ["?actor=bob", ["e2"]],
    ["?actor=usr_bob", ["e2"]],
    ["?q=author:bob", ["e2"]],
    ["?q=-author:alice", ["e5", "e2"]],
    ["?type=repo.create", ["e1"]],
    ["?type=repo.create,org.change_role", ["e2", "e1"]],
    ["?q=type:org.sso_login", ["e5"]],
    ["?q=type:org.settings.*", ["e4", "e3"]], // the legacy alias org.update_settings included
    ["?q=type:org.update_settings", ["e4", "e3"]],
    ["?q=-type:org.sso_login", ["e4", "e3", "e2", "e1"]],
    ["?category=membership", ["e2"]],
    ["?q=-category:organization", ["e2", "e1"]],
    ["?target=carol", ["e2"]],
    ["?q=target:acme/bert", ["e5", "e4", "e3", "e1"]],
    ["?ip=198.51.100.0", ["e2"]],
    ["?ip=198.51.100.77", ["e2"]], // a full address finds its anonymised /24
    ["?q=ip:198.51.", ["e2"]],
    ["?q=ip:2001:db8:", ["e3"]],
    ["?q=-ip:203.0.113.0", ["e4", "e3", "e2"]], // entries without an IP are not excluded
    ["?country=us", ["e2"]],
    ["?q=-country:FR", ["e4", "e3", "e2"]],
    [`?from=${at(2).toISOString()}&to=${at(4).toISOString()}`, ["e3", "e2"]],
    ["?q=created:>=2026-03-01T12:04:00Z", ["e5", "e4"]],
    ["?q=created:<2026-03-01", []],
    ["?text=SSO", ["e5", "e4"]],
    ['?q="changed carol"', ["e2"]],
    ["?q=sso -type:org.sso_login", ["e4"]],
    ["?q=author:alice type:org.settings.* created:>=2026-03-01 -type:org.sso_login", ["e4", "e3"]],
    ["?q=author:alice&type=repo.create", ["e1"]],
  ])("filters %s", async (query, expected) => {
    expect(await ids(query)).toEqual(expected);
  });

  it("answers 400 pointing at the bad token of a malformed q, and naming bad parameters", async () => {
    const { status, body } = await getJson<ErrorJson>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs?q=${encodeURIComponent("author:alice created:>=yesterday")}`,
      admin,
    );
    expect(status).toBe(400);
    expect(body.error.details?.[0]).toMatchObject({
      path: "q",
      position: 13,
      token: "created:>=yesterday",
    });
    for (const [query, path] of [
      ["?type=repo.explode", "type"],
      ["?country=XX", "country"],
      ["?ip=999.1.", "ip"],
      ["?from=soon", "from"],
      ["?limit=0", "limit"],
      ["?limit=201", "limit"],
      ["?cursor=garbage", "cursor"],
      ["?includeHidden=maybe", "includeHidden"],
    ]) {
      const response = await getJson<ErrorJson>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs${query}`,
        admin,
      );
      expect(response.status, query).toBe(400);
      expect(response.body.error.details?.[0]?.path, query).toBe(path);
    }
  });

  it("returns one entry, and 404 for another organisation's entry", async () => {
    const one = await getJson<AuditEntry>(stack.app, `/v1/orgs/${org.slug}/audit-logs/e2`, admin);
    expect(one.status).toBe(200);
    expect(one.body.id).toBe("e2");
    const foreign = await getJson<ErrorJson>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs/${otherEntryId}`,
      admin,
    );
    expect(foreign.status).toBe(404);
  });

  it("never shows another organisation's entries, by any endpoint, parameter or cursor", async () => {
    // The other organisation's admin holds a cursor into its own log, with an entry after it…
    const theirs = await list("?limit=1", otherAdmin, other.slug);
    expect(theirs.body.entries.map((e) => e.description)).toEqual(["other org secret"]);
    const theirCursor = theirs.body.nextCursor;
    expect(theirCursor).toEqual(expect.any(String));
    const theirNext = await list(`?limit=200&cursor=${theirCursor}`, otherAdmin, other.slug);
    expect(theirNext.body.entries.map((e) => e.id)).toEqual([otherEntryId]);
    // …which, used on this organisation, reads this organisation's entries past that position
    // (e5 is newer, e6 hidden) and nothing of the other organisation's.
    const page = await list(`?limit=200&cursor=${theirCursor}`);
    expect(page.status).toBe(200);
    expect(page.body.entries.map((e) => e.id)).toEqual(["e4", "e3", "e2", "e1"]);
    expect(JSON.stringify(page.body)).not.toContain("other org secret");
    const hidden = await list(`?limit=200&includeHidden=true&cursor=${theirCursor}`);
    expect(hidden.body.entries.map((e) => e.id)).toEqual(["e4", "e3", "e2", "e1"]);

    for (const path of [
      `/v1/orgs/${other.slug}/audit-logs`,
      `/v1/orgs/${other.slug}/audit-logs/${otherEntryId}`,
      `/v1/orgs/${other.slug}/audit-logs?q=${encodeURIComponent("other org secret")}`,
      `/api/organizations/${other.slug}/audit-log/export`,
    ]) {
      const response = await getJson<ErrorJson>(stack.app, path, admin);
      expect(response.status, path).toBe(404);
      // Indistinguishable from an organisation that does not exist.
      const missing = await getJson<ErrorJson>(
        stack.app,
        path.replace(other.slug, `${other.slug}-nope`),
        admin,
      );
      expect(response.body.error.message).toBe(missing.body.error.message);
      expect(JSON.stringify(response.body)).not.toContain("other org secret");
    }
  });

  it("answers 403 to non-admin members and free-plan organisations, 401 without a session", async () => {
    const writer = (await createMemberWithToken(org.slug, "write")).token;
    const reader = (await createMemberWithToken(org.slug, "read")).token;
    const free = (await createOrgWithKey("free", "query-free")).org;
    const freeAdmin = (await createMemberWithToken(free.slug, "admin")).token;
    const routes = (slug: string) => [
      `/v1/orgs/${slug}/audit-logs`,
      `/v1/orgs/${slug}/audit-logs/e1`,
      `/api/organizations/${slug}/audit-log/export`,
    ];
    for (const path of routes(org.slug)) {
      expect((await getJson(stack.app, path, writer)).status, path).toBe(403);
      expect((await getJson(stack.app, path, reader)).status, path).toBe(403);
      expect((await getJson(stack.app, path, null)).status, path).toBe(401);
    }
    for (const path of routes(free.slug)) {
      const response = await getJson<ErrorJson>(stack.app, path, freeAdmin);
      expect(response.status, path).toBe(403);
      expect(response.body.error.message).toMatch(/free plan/);
    }
  });

  it("refuses ingestion API keys on read routes", async () => {
    const { apiKey } = await createOrgWithKey("team", "query-key");
    const response = await getJson<ErrorJson>(stack.app, `/v1/orgs/${org.slug}/audit-logs`, apiKey);
    expect(response.status).toBe(401);
  });
});

describe("cursor pagination while events keep arriving", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(() => stack.services.close());

  it("returns every entry exactly once, newest first", async () => {
    const { org } = await createOrgWithKey("team", "paging");
    const token = (await createMemberWithToken(org.slug, "admin")).token;
    // 120 entries, several sharing one timestamp (ties are broken by id), some with
    // microsecond times that a JavaScript Date cannot represent.
    const initial = Array.from({ length: 120 }, (_, i) =>
      entryRow(org.id, { id: `p${String(i).padStart(3, "0")}`, occurredAt: at(Math.floor(i / 4)) }),
    );
    await insertRows(initial);
    const stack2 = stack;
    const { pool } = driversOf(stack2.services.db);
    await bypassingAppendOnly(
      pool,
      "UPDATE audit_entries SET occurred_at = occurred_at + interval '1 microsecond' * (substr(id, 2)::int % 3) WHERE org_id = $1",
      [org.id],
    );

    const seen: string[] = [];
    let cursor: string | null = null;
    let round = 0;
    do {
      const query: string = `?limit=25${cursor ? `&cursor=${cursor}` : ""}`;
      const { status, body } = await getJson<AuditEntryPage>(
        stack.app,
        `/v1/orgs/${org.slug}/audit-logs${query}`,
        token,
      );
      expect(status).toBe(200);
      seen.push(...body.entries.map((e) => e.id));
      cursor = body.nextCursor;
      // New events arrive between page requests, newer than everything listed so far.
      round++;
      await insertRows([
        entryRow(org.id, { id: `new${round}a`, occurredAt: new Date() }),
        entryRow(org.id, { id: `new${round}b`, occurredAt: at(10_000 + round) }),
      ]);
    } while (cursor);

    expect(seen).toHaveLength(initial.length);
    expect(new Set(seen).size).toBe(initial.length);
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE org_id = $1 AND id LIKE 'p%' ORDER BY occurred_at DESC, id DESC",
      [org.id],
    );
    expect(seen).toEqual(rows.map((r) => r.id));
  });
});
