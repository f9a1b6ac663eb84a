import { encodeCursor } from "@auditlog/db";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestApi,
} from "./support/test-stack.ts";

/**
 * The inputs that once answered 500 or 503 (issue 13 §5), each answered with a 400 that names
 * what was wrong. The fuzz suite (fuzz.test.ts) looks for more of them at random.
 */
describe("bad input that used to reach the database", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let slug: string;
  let token: string;

  beforeAll(async () => {
    stack = await startTestApi();
    const { org } = await createOrgWithKey("team", "bad-input");
    slug = org.slug;
    await insertRows([entryRow(org.id)]);
    token = (await createMemberWithToken(slug, "admin")).token;
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  async function expectBadRequest(path: string, named: string | RegExp, init: RequestInit = {}) {
    const response = await stack.app.request(path, {
      ...init,
      headers: { authorization: `Bearer ${token}`, ...(init.headers as Record<string, string>) },
    });
    const body = (await response.json()) as {
      error: { code: string; details?: { path: string }[] };
    };
    expect(response.status, path).toBe(400);
    const paths = body.error.details?.map((d) => d.path) ?? [];
    if (typeof named === "string") expect(paths).toContain(named);
    else
      expect(
        paths.some((p) => named.test(p)),
        JSON.stringify(paths),
      ).toBe(true);
  }

  it.each([
    ["q", "/v1/orgs/:org/audit-logs?q=%00"],
    ["q", "/v1/orgs/:org/audit-logs?q=%22a%00b%22"],
    ["actor", "/v1/orgs/:org/audit-logs?actor=%00"],
    ["target", "/v1/orgs/:org/audit-logs/histogram?target=x%00y"],
    ["before", "/v1/notifications?before=%00"],
    ["q", "/api/organizations/:org/audit-log/export?q=%00"],
  ])("a NUL in the %s parameter: 400 naming it", async (named, path) => {
    await expectBadRequest(path.replace(":org", slug), named);
  });

  it.each([
    "/v1/orgs/:org/audit-logs/%00",
    "/v1/orgs/:org/exports/%00",
    "/v1/orgs/%00/audit-logs",
    "/v1/notifications/%00/read",
  ])("a NUL in a path segment (%s): 400", async (path) => {
    await expectBadRequest(path.replace(":org", slug), "path", {
      method: path.endsWith("/read") ? "POST" : "GET",
    });
  });

  it("a NUL anywhere in a JSON body (not ingestion's): 400 naming its path", async () => {
    await expectBadRequest(`/v1/orgs/${slug}/webhook`, "url", {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ url: "https://hooks.example.test/\u0000" }),
    });
    await expectBadRequest(`/v1/orgs/${slug}/exports`, "filters.actor", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ format: "json", filters: { actor: "a\u0000" } }),
    });
  });

  it("a JSON body nested thousands deep (not ingestion's): 400, not a stack overflow", async () => {
    // Named by where the nesting went too deep: 64 levels of [0].
    await expectBadRequest(`/v1/orgs/${slug}/webhook`, /^(\[0\]){64}$/, {
      method: "PUT",
      headers: { "content-type": "application/json" },
      body: `${"[".repeat(6000)}${"]".repeat(6000)}`,
    });
  });

  it.each([
    ["an impossible time", ["2026-13-45 99:99:99+00", "evt_x"]],
    ["the 29th of February of a common year", ["2026-02-29 10:00:00+00", "evt_x"]],
    ["a NUL in the id", ["2026-03-01 12:00:00+00", "evt\u0000"]],
  ])("a cursor that decodes to %s: 400 naming the cursor", async (_, [time, id]) => {
    const cursor = encodeCursor({ time: time as string, id: id as string });
    await expectBadRequest(`/v1/orgs/${slug}/audit-logs?cursor=${cursor}`, "cursor");
  });

  it("a valid Hub-export query whose printed form is longer than a person's query may be is served", async () => {
    // Bare words with backslashes print quoted and escaped: 50 of them, under 2,000 characters
    // typed, print to about 3,800.
    const q = Array.from({ length: 50 }, (_, i) => `w${i}${"\\".repeat(35)}`).join(" ");
    expect(q.length).toBeLessThanOrEqual(2000);
    const response = await stack.app.request(
      `/api/organizations/${slug}/audit-log/export?q=${encodeURIComponent(q)}`,
      { headers: { authorization: `Bearer ${token}` } },
    );
    expect(response.status).toBe(200);
    expect(JSON.parse(await response.text())).toEqual([]);
  });
});
