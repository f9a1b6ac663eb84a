import { createOrganization, upsertUserMembership } from "@auditlog/db";
import { createTestPool, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemberWithToken, startTestApi } from "./support/test-stack.ts";

/**
 * `GET /v1/orgs/:org/members` a page at a time (an organisation fed by SSO can have thousands):
 * every member exactly once, oldest membership first, through `nextCursor`; members joined at
 * the same instant are told apart by user id; a bad limit or cursor is a 400 naming it.
 */
describe("the members list, paged", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  const slug = uniqueSlug("members-paged");
  let admin: Awaited<ReturnType<typeof createMemberWithToken>>;
  const pool = createTestPool(testDatabaseUrl);
  let expectedIds: string[];

  beforeAll(async () => {
    stack = await startTestApi();
    const org = await createOrganization(stack.services.db, { slug, name: "paged", plan: "team" });
    admin = await createMemberWithToken(slug, "admin");
    for (let i = 0; i < 10; i++) {
      const email = `${uniqueSlug(`m${i}`)}@example.test`;
      await upsertUserMembership(stack.services.db, {
        email,
        name: `member ${i}`,
        passwordHash: "unused",
        orgSlug: slug,
        role: i % 3 === 0 ? "auditor" : "read",
      });
    }
    // Four of them joined at one instant: only the user id orders them.
    await pool.query(
      `UPDATE memberships SET created_at = '2026-06-01 12:00:00.123456+00'
       WHERE org_id = $1 AND user_id IN (
         SELECT user_id FROM memberships WHERE org_id = $1 AND role = 'read' LIMIT 4)`,
      [org.id],
    );
    const { rows } = await pool.query<{ user_id: string }>(
      "SELECT user_id FROM memberships WHERE org_id = $1 ORDER BY created_at, user_id",
      [org.id],
    );
    expectedIds = rows.map((row) => row.user_id);
  });

  afterAll(async () => {
    await pool.end();
    await stack.services.close();
  });

  const get = (query: string) =>
    stack.app.request(`/v1/orgs/${slug}/members${query}`, {
      headers: { authorization: `Bearer ${admin.token}` },
    });

  it("gives every member once, oldest first, page after page", async () => {
    expect(expectedIds).toHaveLength(11);
    for (const limit of [1, 3, 4, 11, 500]) {
      const seen: string[] = [];
      let cursor: string | null = null;
      let pages = 0;
      do {
        const response = await get(`?limit=${limit}${cursor ? `&cursor=${cursor}` : ""}`);
        expect(response.status).toBe(200);
        const body = (await response.json()) as {
          members: { userId: string }[];
          nextCursor: string | null;
        };
        expect(body.members.length).toBeLessThanOrEqual(limit);
        seen.push(...body.members.map((m) => m.userId));
        cursor = body.nextCursor;
        pages++;
      } while (cursor && pages < 20);
      expect(seen).toEqual(expectedIds);
      expect(pages).toBe(Math.ceil(11 / limit));
    }
  });

  it("answers the first 100 without a limit", async () => {
    const body = (await (await get("")).json()) as { members: unknown[]; nextCursor: unknown };
    expect(body.members).toHaveLength(11);
    expect(body.nextCursor).toBeNull();
  });

  it.each([
    ["?limit=0", "limit"],
    ["?limit=501", "limit"],
    ["?limit=abc", "limit"],
    ["?cursor=not-a-cursor", "cursor"],
    [`?cursor=${Buffer.from('["2026-13-45 99:00:00+00","x"]').toString("base64url")}`, "cursor"],
  ])("%s is a 400 naming %s", async (query, field) => {
    const response = await get(query);
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { details?: { path: string }[] } };
    expect(body.error.details?.map((d) => d.path)).toEqual([field]);
  });
});
