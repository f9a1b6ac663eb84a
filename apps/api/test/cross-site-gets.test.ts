import { upsertUserMembership } from "@auditlog/db";
import { uniqueSlug } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { createMemberWithToken, createOrgWithKey, startTestApi } from "./support/test-stack.ts";

const password = "correct horse battery staple";

/** What @hono/node-server passes as bindings; the login limiter reads the peer address from it. */
const fromLoopback = {
  incoming: { socket: { remoteAddress: "127.0.0.1", remotePort: 40000, remoteFamily: "IPv4" } },
};

/**
 * GET routes that record an entry in the organisation's log (the Hub export, a download) must
 * not run for a cookie that a cross-site page made the browser send (a link or a top-level
 * navigation: SameSite=Lax lets the cookie through).
 */
describe("GET routes with side effects refuse cross-site requests authenticated by cookie", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: { id: string; slug: string };
  let cookie: string;
  let token: string;

  beforeAll(async () => {
    stack = await startTestApi();
    ({ org } = await createOrgWithKey("team", "cross-site"));
    const email = `${uniqueSlug("cross-site")}@example.test`;
    await upsertUserMembership(stack.services.db, {
      email,
      name: "Ada",
      passwordHash: await hashPassword(password),
      orgSlug: org.slug,
      role: "admin",
    });
    const login = await stack.app.request(
      "/v1/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      },
      fromLoopback,
    );
    expect(login.status).toBe(200);
    const session = /auditlog_session=([^;]*)/.exec(login.headers.get("set-cookie") ?? "")?.[1];
    cookie = `auditlog_session=${session}`;
    token = (await createMemberWithToken(org.slug, "admin", stack.services.db)).token;
  });
  afterAll(async () => {
    await stack?.services.close();
  });

  /** Jobs waiting in this stack's own ingest queue: the API's own log entries go there. */
  const recorded = async () => (await stack.services.ingestQueue.getJobCounts("wait")).wait ?? 0;

  const get = (path: string, headers: Record<string, string>) =>
    stack.app.request(path, { headers }, fromLoopback);

  const hubExport = () => `/api/organizations/${org.slug}/audit-log/export`;
  const download = () => `/v1/orgs/${org.slug}/exports/exp_does_not_exist/download`;

  it("refuses the Hub export with 403, recording nothing", async () => {
    const before = await recorded();
    const response = await get(hubExport(), { cookie, "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(403);
    const body = (await response.json()) as { error: { code: string; requestId: string } };
    expect(body.error.code).toBe("forbidden");
    expect(body.error.requestId).toMatch(/^req_/);
    expect(await recorded()).toBe(before);
  });

  it("refuses a download with 403 before looking the export up", async () => {
    const response = await get(download(), { cookie, "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { code: string } }).error.code).toBe("forbidden");
  });

  it.each([
    ["same-origin", { "sec-fetch-site": "same-origin" }],
    ["same-site", { "sec-fetch-site": "same-site" }],
    ["typed or bookmarked (none)", { "sec-fetch-site": "none" }],
    ["a client that sends no Sec-Fetch-Site", {}],
  ])("serves %s requests by cookie", async (_kind, headers: Record<string, string>) => {
    const before = await recorded();
    const response = await get(hubExport(), { cookie, ...headers });
    expect(response.status).toBe(200);
    await response.text();
    expect(await recorded()).toBe(before + 1);
    const missing = await get(download(), { cookie, ...headers });
    expect(missing.status).toBe(404);
  });

  it("serves cross-site requests authenticated by token: a page cannot make a browser send one", async () => {
    const authorization = `Bearer ${token}`;
    const response = await get(hubExport(), { authorization, "sec-fetch-site": "cross-site" });
    expect(response.status).toBe(200);
    await response.text();
    const missing = await get(download(), { authorization, "sec-fetch-site": "cross-site" });
    expect(missing.status).toBe(404);
  });

  it("leaves the signed download link alone: it is meant to be opened from an email", async () => {
    const response = await get("/v1/export-downloads/exp_does_not_exist?expires=1&signature=x", {
      "sec-fetch-site": "cross-site",
    });
    // Refused for its bad signature, not for where it was opened from.
    expect(response.status).toBe(403);
    expect(((await response.json()) as { error: { message: string } }).error.message).not.toMatch(
      /cross-site/,
    );
  });
});
