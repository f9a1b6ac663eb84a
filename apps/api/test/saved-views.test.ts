import { maxSavedViewsPerOrg, savedViewListSchema, savedViewSchema } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createMemberWithToken, createOrgWithKey, startTestApi } from "./support/test-stack.ts";

/** Saved views of the console: per user and organisation, in the real PostgreSQL. */
describe("saved views: /v1/orgs/:org/views", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: { id: string; slug: string };
  let otherOrg: { id: string; slug: string };
  let alice: Awaited<ReturnType<typeof createMemberWithToken>>;
  let bob: Awaited<ReturnType<typeof createMemberWithToken>>;

  const call = (token: string, path: string, init: { method?: string; body?: unknown } = {}) =>
    stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const views = (slug: string) => `/v1/orgs/${slug}/views`;
  const filters = { q: "author:bob", types: ["org.change_role"], range: "7d" };

  beforeAll(async () => {
    stack = await startTestApi();
    ({ org } = await createOrgWithKey("team", "views"));
    ({ org: otherOrg } = await createOrgWithKey("team", "views-other"));
    alice = await createMemberWithToken(org.slug, "admin");
    bob = await createMemberWithToken(org.slug, "admin");
  });
  afterAll(async () => {
    await stack?.services.close();
  });

  it("creates, lists by name and deletes the user's own views", async () => {
    const created = await call(alice.token, views(org.slug), {
      method: "POST",
      body: { name: "  Bob's role changes ", filters },
    });
    expect(created.status).toBe(201);
    const view = savedViewSchema.parse(await created.json());
    expect(view).toMatchObject({ name: "Bob's role changes", filters });
    expect(view.id).toMatch(/^vw_[0-9a-f]{24}$/);
    const custom = {
      q: "",
      types: [],
      range: "custom",
      from: "2026-11-01T00:00:00.000Z",
      to: "2026-11-02T00:00:00.000Z",
    };
    expect(
      (
        await call(alice.token, views(org.slug), {
          method: "POST",
          body: { name: "A day", filters: custom },
        })
      ).status,
    ).toBe(201);

    const listed = savedViewListSchema.parse(
      await (await call(alice.token, views(org.slug))).json(),
    );
    expect(listed.views.map((v) => v.name)).toEqual(["A day", "Bob's role changes"]);
    expect(listed.views[0]?.filters).toEqual(custom);

    // The same name again is a conflict naming the field.
    const again = await call(alice.token, views(org.slug), {
      method: "POST",
      body: { name: "Bob's role changes", filters },
    });
    expect(again.status).toBe(409);
    expect(
      ((await again.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path,
    ).toBe("name");

    expect(
      (await call(alice.token, `${views(org.slug)}/${view.id}`, { method: "DELETE" })).status,
    ).toBe(204);
    expect(
      (await call(alice.token, `${views(org.slug)}/${view.id}`, { method: "DELETE" })).status,
    ).toBe(404);
    const after = savedViewListSchema.parse(
      await (await call(alice.token, views(org.slug))).json(),
    );
    expect(after.views.map((v) => v.name)).toEqual(["A day"]);
  });

  it("answers 400 naming the field for a bad name, filter, query, type or range", async () => {
    const cases: [unknown, string][] = [
      [{ filters }, "name"],
      [{ name: "   ", filters }, "name"],
      [{ name: "x".repeat(101), filters }, "name"],
      [{ name: "n" }, "filters"],
      [{ name: "n", filters: { ...filters, q: "type:(repo.create OR" } }, "filters.q"],
      [{ name: "n", filters: { ...filters, q: "author:" } }, "filters.q"],
      [{ name: "n", filters: { ...filters, types: ["no.such_type"] } }, "filters.types.0"],
      [{ name: "n", filters: { ...filters, range: "1y" } }, "filters.range"],
      [{ name: "n", filters: { ...filters, from: "yesterday" } }, "filters.from"],
      [{ name: "n", filters: { ...filters, extra: 1 } }, "filters"],
      [{ name: "n", filters, owner: "someone" }, "(body)"],
    ];
    for (const [body, path] of cases) {
      const response = await call(alice.token, views(org.slug), { method: "POST", body });
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = (
        (await response.json()) as {
          error: { code: string; requestId: string; details: { path: string }[] };
        }
      ).error;
      expect(error.code).toBe("validation_failed");
      expect(error.requestId).toBeTruthy();
      expect(
        error.details.map((d) => d.path),
        JSON.stringify(body),
      ).toContain(path);
    }
  });

  it("never shows or deletes a view to another user, nor in another organisation", async () => {
    const created = savedViewSchema.parse(
      await (
        await call(alice.token, views(org.slug), {
          method: "POST",
          body: { name: "Alice only", filters },
        })
      ).json(),
    );
    // Bob is an admin of the same organisation: he sees none of Alice's views.
    const bobs = savedViewListSchema.parse(await (await call(bob.token, views(org.slug))).json());
    expect(bobs.views.some((v) => v.id === created.id)).toBe(false);
    expect(
      (await call(bob.token, `${views(org.slug)}/${created.id}`, { method: "DELETE" })).status,
    ).toBe(404);

    // Alice as an admin of another organisation: her views of the first are not there.
    await createMemberWithToken(otherOrg.slug, "admin").then(async (carol) => {
      const list = savedViewListSchema.parse(
        await (await call(carol.token, views(otherOrg.slug))).json(),
      );
      expect(list.views).toEqual([]);
    });
    const { token: aliceElsewhere } = alice;
    expect((await call(aliceElsewhere, views(otherOrg.slug))).status).toBe(404);

    // A member who is not an admin cannot read the log, so has no views of it.
    const reader = await createMemberWithToken(org.slug, "read");
    expect((await call(reader.token, views(org.slug))).status).toBe(403);

    // Still Alice's.
    const alices = savedViewListSchema.parse(
      await (await call(alice.token, views(org.slug))).json(),
    );
    expect(alices.views.some((v) => v.id === created.id)).toBe(true);
  });

  it(`keeps at most ${maxSavedViewsPerOrg} views per user and organisation`, async () => {
    const dave = await createMemberWithToken(org.slug, "admin");
    for (let i = 0; i < maxSavedViewsPerOrg; i++) {
      const response = await call(dave.token, views(org.slug), {
        method: "POST",
        body: { name: `view ${i}`, filters },
      });
      expect(response.status).toBe(201);
    }
    const over = await call(dave.token, views(org.slug), {
      method: "POST",
      body: { name: "one too many", filters },
    });
    expect(over.status).toBe(400);
  });
});
