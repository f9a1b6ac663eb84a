import { createHash } from "node:crypto";
import { createTestPool } from "@auditlog/db/testing";
import {
  auditEntryPageSchema,
  createdViewerLinkSchema,
  viewerEntryPageSchema,
  viewerLinkListSchema,
} from "@auditlog/events";
import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * Scoped viewer links (issue 20) against the real PostgreSQL and Redis: an admin creates a link
 * bound to a `q` filter; its holder reads and exports only entries matching that filter, whatever
 * `q` of their own they send (a fast-check property over negations, wildcards, free text, the
 * same key again, dates, hidden types); uses are recorded in the organisation's log; an expired
 * or revoked link answers 401; the embeddable viewer's page is framable only by the origins the
 * organisation listed.
 */

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const targets = ["acme/bert", "acme/gpt", "other/x", null] as const;
const authors = ["alice", "bob", "carol"] as const;
const types = [
  ["repo.create", "content"],
  ["repo.delete", "content"],
  ["org.add_user", "membership"],
] as const;
const countries = ["FR", "US", "DE", null] as const;
const words = ["deploy", "rollback", "bert weights", "nightly"] as const;

/** The filters the property's links are bound to. */
const linkFilters = [
  "target:acme/bert",
  "type:repo.* -author:bob",
  "country:FR deploy",
  "author:alice author:carol -target:other/x",
] as const;

/** What holders type: negations, wildcards, free text, the link's own keys again, dates. */
const holderTerms = [
  "target:acme/bert",
  "target:acme/gpt",
  "target:other/x",
  "-target:acme/bert",
  "-target:acme/gpt",
  "type:repo.*",
  "type:org.*",
  "type:repo.delete",
  "-type:repo.*",
  "type:org.audit_log.*",
  "author:alice",
  "author:bob",
  "-author:alice",
  "-author:carol",
  "country:US",
  "country:FR",
  "-country:FR",
  "deploy",
  "rollback",
  "bert",
  '"bert weights"',
  "acme",
  "created:>=2026-03-01T12:40:00Z",
  "created:<2026-03-01T13:00:00Z",
  "ip:203.0.113.",
  "-ip:198.51.100.",
  "category:membership",
  "-category:content",
] as const;

describe("scoped viewer links", () => {
  let stack: Stack;
  let org: { id: string; slug: string };
  let admin: Awaited<ReturnType<typeof createMemberWithToken>>;
  let reader: Awaited<ReturnType<typeof createMemberWithToken>>;
  const pool = createTestPool();
  /** Per link filter: its token and the ids the admin's own query of that filter returns. */
  const links = new Map<string, { id: string; token: string; ids: Set<string> }>();

  const request = (
    path: string,
    token: string,
    init: { method?: string; body?: unknown; headers?: Record<string, string> } = {},
  ) =>
    stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
        ...init.headers,
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
  const adminIds = async (q: string, includeHidden = false) => {
    const params = new URLSearchParams({ q, limit: "200", includeHidden: String(includeHidden) });
    const response = await request(`/v1/orgs/${org.slug}/audit-logs?${params}`, admin.token);
    expect(response.status).toBe(200);
    const page = auditEntryPageSchema.parse(await response.json());
    expect(page.nextCursor).toBeNull();
    return new Set(page.entries.map((e) => e.id));
  };
  const createLink = async (q: string, expiresAt = new Date(Date.now() + 86_400_000)) => {
    const response = await request(`/v1/orgs/${org.slug}/viewer-links`, admin.token, {
      method: "POST",
      body: { name: `link ${q}`.slice(0, 100), q, expiresAt: expiresAt.toISOString() },
    });
    expect(response.status).toBe(201);
    return createdViewerLinkSchema.parse(await response.json());
  };

  beforeAll(async () => {
    stack = await startTestApi();
    ({ org } = await createOrgWithKey("team", "viewer"));
    admin = await createMemberWithToken(org.slug, "admin");
    reader = await createMemberWithToken(org.slug, "read");
    // 96 entries a minute apart, every combination of the keys above cycling at different
    // rates, and 6 hidden entries (the log's own exports) on the scoped target.
    const rows = Array.from({ length: 96 }, (_, i) => {
      const target = targets[i % targets.length];
      const [type, category] = types[Math.floor(i / 4) % types.length] ?? types[0];
      const country = countries[Math.floor(i / 3) % countries.length];
      return entryRow(org.id, {
        occurredAt: new Date(Date.UTC(2026, 2, 1, 12, i)),
        type,
        category,
        actorName: authors[(i % 5) % authors.length] ?? "alice",
        actorId: `usr_${authors[(i % 5) % authors.length]}`,
        targetType: target ? "model" : null,
        targetId: target,
        targetName: target,
        description: `${authors[i % 3]} ${words[i % words.length]} #${i}`,
        countryCode: country,
        ip: i % 2 === 0 ? "203.0.113.0" : "198.51.100.0",
      });
    });
    const hidden = Array.from({ length: 6 }, (_, i) =>
      entryRow(org.id, {
        occurredAt: new Date(Date.UTC(2026, 2, 1, 14, i)),
        type: "org.audit_log.export",
        category: "audit_log",
        hiddenByDefault: true,
        description: "alice exported the audit log (deploy)",
        countryCode: "FR",
      }),
    );
    await insertRows([...rows, ...hidden]);
    for (const q of linkFilters) {
      const link = await createLink(q);
      links.set(q, { id: link.id, token: link.token, ids: await adminIds(q) });
    }
  }, 120_000);
  afterAll(async () => {
    await pool.query("DELETE FROM organizations WHERE id = $1", [org.id]);
    await pool.end();
    await stack?.services.close();
  });

  it("answers the token once, stores only its hash, and lists links without tokens", async () => {
    const link = await createLink("target:acme/gpt");
    expect(link.token).toMatch(/^avl_[A-Za-z0-9_-]{43}$/);
    expect(link.id).toMatch(/^vwl_[0-9a-f]{24}$/);
    expect(link.embedSrc).toBe(`${link.embedUrl}#${link.token}`);
    expect(link.embedUrl).toMatch(new RegExp(`/embed/viewer/${link.id}$`));
    const { rows } = await pool.query("SELECT * FROM viewer_links WHERE id = $1", [link.id]);
    expect(rows[0].token_hash).toEqual(createHash("sha256").update(link.token).digest());
    expect(JSON.stringify(rows[0])).not.toContain(link.token.slice(4));
    const listed = await request(`/v1/orgs/${org.slug}/viewer-links`, admin.token);
    expect(listed.status).toBe(200);
    const text = await listed.text();
    expect(text).not.toContain(link.token.slice(4));
    const list = viewerLinkListSchema.parse(JSON.parse(text));
    expect(list.links.find((l) => l.id === link.id)).toMatchObject({
      q: "target:acme/gpt",
      status: "active",
      tokenPrefix: link.token.slice(0, 10),
    });
    expect(list.links.length).toBe(linkFilters.length + 1);
  });

  it("refuses bad links naming the field, and anyone but an admin", async () => {
    const post = (body: unknown, token = admin.token) =>
      request(`/v1/orgs/${org.slug}/viewer-links`, token, { method: "POST", body });
    const future = new Date(Date.now() + 3_600_000).toISOString();
    const cases: [unknown, string][] = [
      [{ name: "x", q: "", expiresAt: future }, "q"],
      [{ name: "x", q: "   ", expiresAt: future }, "q"],
      [{ name: "x", q: "target:", expiresAt: future }, "q"],
      [{ name: "x", q: "nope:1", expiresAt: future }, "q"],
      [{ name: "x", q: "target:a", expiresAt: "2020-01-01T00:00:00Z" }, "expiresAt"],
      [{ name: "x", q: "target:a", expiresAt: "2099-01-01T00:00:00Z" }, "expiresAt"],
      [{ name: "x", q: "target:a", expiresAt: "tomorrow" }, "expiresAt"],
      [{ name: "", q: "target:a", expiresAt: future }, "name"],
    ];
    for (const [body, field] of cases) {
      const response = await post(body);
      expect(response.status, JSON.stringify(body)).toBe(400);
      const error = ((await response.json()) as { error: { details: { path: string }[] } }).error;
      expect(error.details.map((d) => d.path)).toContain(field);
    }
    const byReader = await post({ name: "x", q: "target:a", expiresAt: future }, reader.token);
    expect(byReader.status).toBe(403);
    expect((await request(`/v1/orgs/${org.slug}/viewer-links`, reader.token)).status).toBe(403);
    // A link's token is not a credential anywhere but /v1/viewer.
    const token = links.get("target:acme/bert")?.token ?? "";
    expect((await request(`/v1/orgs/${org.slug}/audit-logs`, token)).status).toBe(401);
    expect((await request(`/v1/orgs/${org.slug}/viewer-links`, token)).status).toBe(401);
    // And a person's token is not a viewer link.
    expect((await request("/v1/viewer/entries", admin.token)).status).toBe(401);
  });

  it("property: no holder query reaches an entry outside the link's filter; exports neither", async () => {
    let checked = 0;
    let returned = 0;
    await fc.assert(
      fc.asyncProperty(
        fc.constantFrom(...linkFilters),
        fc.array(fc.constantFrom(...holderTerms), { maxLength: 4 }),
        fc.boolean(),
        async (linkFilter, terms, includeHidden) => {
          const link = links.get(linkFilter);
          if (!link) throw new Error(`no link for ${linkFilter}`);
          const q = terms.join(" ");
          const params = new URLSearchParams({
            q,
            limit: "200",
            includeHidden: String(includeHidden),
          });
          const response = await request(`/v1/viewer/entries?${params}`, link.token);
          expect(response.status).toBe(200);
          const page = viewerEntryPageSchema.parse(await response.json());
          expect(page.nextCursor).toBeNull();
          const ids = page.entries.map((e) => e.id);
          // Never outside the link's filter…
          expect(ids.filter((id) => !link.ids.has(id))).toEqual([]);
          // …and exactly the holder's query within it (the filter is ANDed, not replacing it).
          const holderIds = await adminIds(q, includeHidden);
          expect(new Set(ids)).toEqual(new Set([...link.ids].filter((id) => holderIds.has(id))));
          // The export through the link holds the same entries, newest first.
          const exported = await request(`/v1/viewer/export?${params}`, link.token);
          expect(exported.status).toBe(200);
          expect(exported.headers.get("content-type")).toMatch(/^application\/x-ndjson/);
          const lines = (await exported.text()).split("\n").filter((line) => line !== "");
          expect(lines.map((line) => (JSON.parse(line) as { id: string }).id)).toEqual(ids);
          checked += 1;
          returned += ids.length;
        },
      ),
      { numRuns: 60 },
    );
    console.log(
      `viewer links property: ${checked} holder queries over ${linkFilters.length} links, ${returned} entries returned, none outside its link's filter`,
    );
    expect(checked).toBe(60);
  }, 180_000);

  it("pages through the link's entries with the cursor, and answers its scope", async () => {
    const link = links.get("target:acme/bert");
    if (!link) throw new Error("no link");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const params = new URLSearchParams({ limit: "7", ...(cursor ? { cursor } : {}) });
      const response = await request(`/v1/viewer/entries?${params}`, link.token);
      expect(response.status).toBe(200);
      const page = viewerEntryPageSchema.parse(await response.json());
      seen.push(...page.entries.map((e) => e.id));
      cursor = page.nextCursor;
    } while (cursor);
    expect(new Set(seen)).toEqual(link.ids);
    expect(seen.length).toBe(24);
    const scope = await request("/v1/viewer", link.token);
    expect(scope.status).toBe(200);
    expect(await scope.json()).toMatchObject({
      q: "target:acme/bert",
      name: "link target:acme/bert",
    });
    const badCursor = await request("/v1/viewer/entries?cursor=nope", link.token);
    expect(badCursor.status).toBe(400);
    const badQ = await request("/v1/viewer/entries?q=target%3A", link.token);
    expect(badQ.status).toBe(400);
    expect(
      ((await badQ.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path,
    ).toBe("q");
  });

  it("records uses in the organisation's log: every export, page loads once per window", async () => {
    const worker = await startTestWorker(stack);
    try {
      const link = await createLink("target:other/x");
      for (let i = 0; i < 3; i++) {
        expect((await request("/v1/viewer/entries", link.token)).status).toBe(200);
      }
      const exported = await request("/v1/viewer/export", link.token);
      expect(exported.status).toBe(200);
      await exported.text();
      const uses = await waitFor(
        async () =>
          (
            await pool.query<{ via: string; actor_id: string; q: string }>(
              `SELECT data->>'via' AS via, actor_id, data->>'q' AS q FROM audit_entries
               WHERE org_id = $1 AND type = 'org.audit_log.viewer_link.use'
                 AND data->>'linkId' = $2 ORDER BY via`,
              [org.id, link.id],
            )
          ).rows,
        (rows) => rows.length >= 2,
      );
      expect(uses).toEqual([
        { via: "export", actor_id: link.id, q: "target:other/x" },
        { via: "list", actor_id: link.id, q: "target:other/x" },
      ]);
      const created = await pool.query(
        `SELECT 1 FROM audit_entries WHERE org_id = $1
           AND type = 'org.audit_log.viewer_link.create' AND data->>'linkId' = $2`,
        [org.id, link.id],
      );
      expect(created.rowCount).toBe(1);
      const listed = viewerLinkListSchema.parse(
        await (await request(`/v1/orgs/${org.slug}/viewer-links`, admin.token)).json(),
      );
      expect(listed.links.find((l) => l.id === link.id)?.lastUsedAt).not.toBeNull();
    } finally {
      await worker.stop();
    }
  }, 60_000);

  it("answers 401 once a link expired or was revoked, on every route and the embed page", async () => {
    const expiring = await createLink("target:acme/bert");
    const revoked = await createLink("target:acme/bert");
    for (const link of [expiring, revoked]) {
      expect((await request("/v1/viewer/entries", link.token)).status).toBe(200);
    }
    await pool.query(
      "UPDATE viewer_links SET expires_at = now() - interval '1 second' WHERE id = $1",
      [expiring.id],
    );
    expect(
      (
        await request(`/v1/orgs/${org.slug}/viewer-links/${revoked.id}`, admin.token, {
          method: "DELETE",
        })
      ).status,
    ).toBe(204);
    for (const [link, word] of [
      [expiring, "expired"],
      [revoked, "revoked"],
    ] as const) {
      for (const path of ["/v1/viewer", "/v1/viewer/entries", "/v1/viewer/export"]) {
        const response = await request(path, link.token);
        expect(response.status, `${word} ${path}`).toBe(401);
        expect(((await response.json()) as { error: { message: string } }).error.message).toContain(
          word,
        );
      }
      const page = await stack.app.request(`/embed/viewer/${link.id}`);
      expect(page.status).toBe(401);
      expect(await page.text()).toContain("expired or was revoked");
    }
    const listed = viewerLinkListSchema.parse(
      await (await request(`/v1/orgs/${org.slug}/viewer-links`, admin.token)).json(),
    );
    expect(listed.links.find((l) => l.id === expiring.id)?.status).toBe("expired");
    expect(listed.links.find((l) => l.id === revoked.id)?.status).toBe("revoked");
    // Revoking again is still revoked; a link of no one is 404.
    const again = await request(`/v1/orgs/${org.slug}/viewer-links/${revoked.id}`, admin.token, {
      method: "DELETE",
    });
    expect(again.status).toBe(204);
    const missing = await request(
      `/v1/orgs/${org.slug}/viewer-links/vwl_000000000000000000000000`,
      admin.token,
      { method: "DELETE" },
    );
    expect(missing.status).toBe(404);
    // A token that was never issued.
    const forged = `avl_${"A".repeat(43)}`;
    expect((await request("/v1/viewer/entries", forged)).status).toBe(401);
  });

  it("lets only the organisation's listed origins frame the embeddable viewer", async () => {
    const link = await createLink("target:acme/bert");
    const embedding = `/v1/orgs/${org.slug}/viewer-embedding`;
    const frameAncestors = (response: Response) =>
      /frame-ancestors ([^;]+)/.exec(response.headers.get("content-security-policy") ?? "")?.[1];

    const before = await stack.app.request(`/embed/viewer/${link.id}`);
    expect(before.status).toBe(200);
    expect(frameAncestors(before)).toBe("'none'");
    expect(before.headers.get("x-frame-options")).toBe("DENY");
    expect(await before.text()).toContain('src="/embed/viewer.js"');

    const bad = await request(embedding, admin.token, {
      method: "PUT",
      body: { frameOrigins: ["https://ok.example", "https://host.example/path"] },
    });
    expect(bad.status).toBe(400);
    expect(
      ((await bad.json()) as { error: { details: { path: string }[] } }).error.details[0]?.path,
    ).toBe("frameOrigins.1");
    const byReader = await request(embedding, reader.token, {
      method: "PUT",
      body: { frameOrigins: ["https://ok.example"] },
    });
    expect(byReader.status).toBe(403);

    const origins = ["https://app.example.com", "http://127.0.0.1:5173"];
    const put = await request(embedding, admin.token, {
      method: "PUT",
      body: { frameOrigins: origins },
    });
    expect(put.status).toBe(200);
    expect(await (await request(embedding, admin.token)).json()).toEqual({ frameOrigins: origins });

    const after = await stack.app.request(`/embed/viewer/${link.id}`);
    expect(after.status).toBe(200);
    expect(frameAncestors(after)).toBe(origins.join(" "));
    expect(after.headers.get("x-frame-options")).toBeNull();
    expect(after.headers.get("content-security-policy")).toContain("script-src 'self'");
    // Everything else stays unframeable: an unknown link, the console, the API.
    const unknown = await stack.app.request("/embed/viewer/vwl_000000000000000000000000");
    expect(unknown.status).toBe(404);
    expect(frameAncestors(unknown)).toBe("'none'");
    for (const path of ["/", "/embed/viewer.js", "/healthz", `/embed/nothing`]) {
      const response = await stack.app.request(path);
      expect(frameAncestors(response), path).toBe("'none'");
      expect(response.headers.get("x-frame-options"), path).toBe("DENY");
    }
  });
});
