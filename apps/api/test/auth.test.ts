import { createHash, randomBytes } from "node:crypto";
import {
  createApiKeyRecord,
  createOrganization,
  createSession,
  upsertUserMembership,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { prepareTestDatabase, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { Hono } from "hono";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createApp } from "../src/app.ts";
import type { AppEnv } from "../src/app-env.ts";
import { generateApiKey } from "../src/auth/api-keys.ts";
import { hashPassword } from "../src/auth/passwords.ts";
import { requireOrgRole } from "../src/auth/require-org-role.ts";
import { userAuth } from "../src/auth/user-auth.ts";
import { loadApiEnv } from "../src/env.ts";
import { handleError } from "../src/errors.ts";
import { requestId } from "../src/http/request-id.ts";
import { createServices, type Services } from "../src/services.ts";

const password = "correct horse battery staple";

interface ErrorJson {
  error: { code: string; message: string; requestId: string };
}

/** A random client address per call: the login limiter counts per address, so tests must not share one. */
function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}
/** What @hono/node-server passes as bindings; getConnInfo reads the peer address from it. */
function fromAddress(ip: string) {
  return { incoming: { socket: { remoteAddress: ip, remotePort: 40000, remoteFamily: "IPv4" } } };
}

function sessionCookieOf(response: Response): string {
  const header = response.headers.get("set-cookie") ?? "";
  const match = /auditlog_session=([^;]*)/.exec(header);
  if (!match?.[1]) throw new Error(`no session cookie in ${JSON.stringify(header)}`);
  return match[1];
}

describe("admin access: sign-in, sessions, tokens, org admin checks", () => {
  let services: Services;
  let app: ReturnType<typeof createApp>;
  let probe: Hono<AppEnv>;
  const teamSlug = uniqueSlug("auth-team");
  const freeSlug = uniqueSlug("auth-free");
  const otherSlug = uniqueSlug("auth-other");
  const missingSlug = uniqueSlug("auth-missing");
  const adminEmail = `${uniqueSlug("admin")}@example.test`;
  const writerEmail = `${uniqueSlug("writer")}@example.test`;
  const outsiderEmail = `${uniqueSlug("outsider")}@example.test`;
  let adminId = "";
  let apiKey = "";

  function login(email: string, pw: string, ip = randomIp(), cookie?: string) {
    return app.request(
      "/v1/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json", ...(cookie ? { cookie } : {}) },
        body: JSON.stringify({ email, password: pw }),
      },
      fromAddress(ip),
    );
  }

  async function signIn(email = adminEmail) {
    const response = await login(email, password);
    expect(response.status).toBe(200);
    const body = (await response.json()) as { csrfToken: string };
    return { cookie: `auditlog_session=${sessionCookieOf(response)}`, csrfToken: body.csrfToken };
  }

  beforeAll(async () => {
    await prepareTestDatabase();
    const env = loadApiEnv({
      ...process.env,
      DATABASE_URL: testDatabaseUrl,
      INGEST_QUEUE: `auth-test-${randomBytes(4).toString("hex")}`,
      SESSION_TTL_HOURS: "12",
      COOKIE_SECURE: "false",
      LOGIN_MAX_FAILURES: "10",
      LOGIN_WINDOW_SECONDS: "900",
      LOGIN_FREE_FAILURES: "3",
    });
    services = createServices(env);
    app = createApp(services);
    probe = new Hono<AppEnv>()
      .use(requestId)
      .use(async (c, next) => {
        c.set("services", services);
        await next();
      })
      // A path the role policy names (readLog): the guard looks the route up there, and a path
      // it does not name is refused to everyone.
      .get("/v1/orgs/:org/audit-logs", userAuth, requireOrgRole(), (c) =>
        c.json({ org: c.var.org }),
      );
    probe.onError(handleError);

    const { db } = services;
    const passwordHash = await hashPassword(password);
    await createOrganization(db, { slug: teamSlug, name: "Auth Team", plan: "team" });
    await createOrganization(db, { slug: freeSlug, name: "Auth Free", plan: "free" });
    await createOrganization(db, { slug: otherSlug, name: "Auth Other", plan: "enterprise" });
    const admin = await upsertUserMembership(db, {
      email: adminEmail,
      name: "Ada Admin",
      passwordHash,
      orgSlug: teamSlug,
      role: "admin",
    });
    adminId = admin.user.id;
    await upsertUserMembership(db, {
      email: adminEmail,
      name: "Ada Admin",
      passwordHash,
      orgSlug: freeSlug,
      role: "admin",
    });
    await upsertUserMembership(db, {
      email: writerEmail,
      name: "Will Writer",
      passwordHash,
      orgSlug: teamSlug,
      role: "write",
    });
    await upsertUserMembership(db, {
      email: outsiderEmail,
      name: "Olga Outsider",
      passwordHash,
      orgSlug: otherSlug,
      role: "admin",
    });
    const generated = generateApiKey();
    await createApiKeyRecord(db, {
      orgSlug: teamSlug,
      name: "ingest",
      prefix: generated.prefix,
      keyHash: generated.hash,
    });
    apiKey = generated.key;
  });

  afterAll(async () => {
    await services?.ingestQueue.obliterate({ force: true }).catch(() => {});
    await services?.close();
  });

  describe("POST /v1/auth/login", () => {
    it("signs in, setting an httpOnly SameSite=Lax cookie whose hash alone is stored", async () => {
      const response = await login(adminEmail.toUpperCase(), password);
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        user: { id: string; email: string; name: string };
        csrfToken: string;
      };
      expect(body.user).toEqual({ id: adminId, email: adminEmail, name: "Ada Admin" });
      expect(body.csrfToken).toMatch(/^[A-Za-z0-9_-]{43}$/);

      const setCookie = response.headers.get("set-cookie") ?? "";
      expect(setCookie).toMatch(/^auditlog_session=[A-Za-z0-9_-]{43};/);
      expect(setCookie).toContain("HttpOnly");
      expect(setCookie).toContain("SameSite=Lax");
      expect(setCookie).toContain("Path=/");
      expect(setCookie).toContain(`Max-Age=${12 * 3600}`);
      expect(setCookie).not.toContain("Secure");
      expect(response.headers.get("cache-control")).toBe("no-store");

      const cookieValue = sessionCookieOf(response);
      const stored = await driversOf(services.db).prisma.session.findMany({
        where: { userId: adminId },
      });
      const hash = createHash("sha256").update(cookieValue).digest();
      const mine = stored.find((s) => Buffer.from(s.tokenHash).equals(hash));
      expect(mine?.csrfToken).toBe(body.csrfToken);
      expect(stored.some((s) => Buffer.from(s.tokenHash).toString() === cookieValue)).toBe(false);
      const ttl = (mine?.expiresAt.getTime() ?? 0) - (mine?.createdAt.getTime() ?? 0);
      expect(ttl).toBe(12 * 3600 * 1000);
    });

    it("answers 401 with the same body for a wrong password and an unknown email", async () => {
      const wrong = await login(adminEmail, "not the password");
      const unknown = await login(`${uniqueSlug("nobody")}@example.test`, password);
      expect(wrong.status).toBe(401);
      expect(unknown.status).toBe(401);
      const a = (await wrong.json()) as ErrorJson;
      const b = (await unknown.json()) as ErrorJson;
      expect(a.error.code).toBe("unauthorized");
      expect(a.error.message).toBe("invalid email or password");
      expect({ ...b.error, requestId: "" }).toEqual({ ...a.error, requestId: "" });
      expect(wrong.headers.get("set-cookie")).toBeNull();
    });

    it("refuses a malformed body with 400 naming the fields", async () => {
      const response = await app.request(
        "/v1/auth/login",
        {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ email: "not-an-email" }),
        },
        fromAddress(randomIp()),
      );
      expect(response.status).toBe(400);
      const body = (await response.json()) as ErrorJson & {
        error: { details: { path: string }[] };
      };
      expect(body.error.code).toBe("validation_failed");
      expect(body.error.details.map((d) => d.path).sort()).toEqual(["email", "password"]);
    });

    it("lets the real user in from their own address while others fail for their email from elsewhere", async () => {
      const email = `${uniqueSlug("targeted")}@example.test`;
      await upsertUserMembership(services.db, {
        email,
        name: "Targeted",
        passwordHash: await hashPassword(password),
        orgSlug: teamSlug,
        role: "admin",
      });
      // Twice the old per-email limit, each from another address: no pair is throttled.
      for (let i = 0; i < 2 * services.env.LOGIN_MAX_FAILURES; i++) {
        const response = await login(email, `wrong-${i}`);
        expect(response.status).toBe(401);
      }
      const own = await login(email, password);
      expect(own.status).toBe(200);
      expect(own.headers.get("set-cookie")).toMatch(/^auditlog_session=/);
    });

    it("throttles one address's failures for one email with growing delays, 429 with Retry-After", {
      timeout: 30_000,
    }, async () => {
      const email = `${uniqueSlug("guessed")}@example.test`;
      await upsertUserMembership(services.db, {
        email,
        name: "Guessed",
        passwordHash: await hashPassword(password),
        orgSlug: teamSlug,
        role: "read",
      });
      const ip = randomIp();
      const free = services.env.LOGIN_FREE_FAILURES;
      for (let i = 0; i < free; i++) {
        const response = await login(email, `wrong-${i}`, ip);
        expect(response.status).toBe(401);
        expect(response.headers.get("ratelimit")).toMatch(
          new RegExp(`^"sign-in";r=${free - i - 1};t=\\d+$`),
        );
      }
      const throttled = await login(email, password, ip);
      expect(throttled.status).toBe(429);
      const first = Number(throttled.headers.get("retry-after"));
      expect(first).toBeGreaterThanOrEqual(1);
      expect(first).toBeLessThanOrEqual(2);
      expect(throttled.headers.get("ratelimit")).toBe(`"sign-in";r=0;t=${first}`);
      expect(((await throttled.json()) as ErrorJson).error.code).toBe("rate_limited");
      expect(throttled.headers.get("set-cookie")).toBeNull();
      // Someone else's address is not slowed down for the same email.
      expect((await login(email, password)).status).toBe(200);

      await new Promise((resolve) => setTimeout(resolve, first * 1000 + 100));
      expect((await login(email, "wrong again", ip)).status).toBe(401);
      const longer = await login(email, password, ip);
      expect(longer.status).toBe(429);
      expect(Number(longer.headers.get("retry-after"))).toBeGreaterThan(first);
    });

    it("keys its Redis counters with an HMAC: neither the address nor its SHA-256 is in a key", async () => {
      const ip = randomIp();
      const email = `${uniqueSlug("hashed")}@example.test`;
      for (let i = 0; i < 2; i++) expect((await login(email, "guess", ip)).status).toBe(401);
      const sha256 = (value: string) => createHash("sha256").update(value).digest("hex");
      const keys: string[] = [];
      let cursor = "0";
      do {
        const [next, batch] = await services.redis.scan(
          cursor,
          "MATCH",
          "auditlog:*",
          "COUNT",
          1000,
        );
        cursor = next;
        keys.push(...batch);
      } while (cursor !== "0");
      expect(keys.length).toBeGreaterThan(0);
      for (const forbidden of [ip, sha256(ip), email, sha256(email)]) {
        expect(keys.filter((key) => key.includes(forbidden))).toEqual([]);
      }
    });

    it("limits failures per client address across emails", async () => {
      const ip = randomIp();
      const limit = services.env.LOGIN_MAX_FAILURES;
      for (let i = 0; i < limit; i++) {
        const response = await login(`${uniqueSlug("spray")}@example.test`, "guess", ip);
        expect(response.status).toBe(401);
      }
      const blocked = await login(adminEmail, password, ip);
      expect(blocked.status).toBe(429);
      expect(blocked.headers.get("retry-after")).toMatch(/^\d+$/);
      // Another address is unaffected.
      expect((await login(adminEmail, password)).status).toBe(200);
    });

    it("a successful login does not count against the address", async () => {
      const ip = randomIp();
      for (let i = 0; i < services.env.LOGIN_MAX_FAILURES + 2; i++) {
        expect((await login(adminEmail, password, ip)).status).toBe(200);
      }
    });

    it("fails closed with 503 when Redis is unreachable", async () => {
      const env = loadApiEnv({
        ...process.env,
        DATABASE_URL: testDatabaseUrl,
        REDIS_URL: "redis://127.0.0.1:1",
        INGEST_QUEUE: `auth-test-down-${randomBytes(4).toString("hex")}`,
      });
      const down = createServices(env);
      try {
        const response = await createApp(down).request(
          "/v1/auth/login",
          {
            method: "POST",
            headers: { "content-type": "application/json" },
            body: JSON.stringify({ email: adminEmail, password }),
          },
          fromAddress(randomIp()),
        );
        expect(response.status).toBe(503);
        expect(((await response.json()) as ErrorJson).error.code).toBe("service_unavailable");
        expect(response.headers.get("set-cookie")).toBeNull();
      } finally {
        await down.close();
      }
    });
  });

  describe("sessions", () => {
    it("GET /v1/me lists organisations with role, plan and whether they have audit logs", async () => {
      const { cookie, csrfToken } = await signIn();
      const response = await app.request("/v1/me", { headers: { cookie } });
      expect(response.status).toBe(200);
      const body = (await response.json()) as {
        user: unknown;
        organizations: { slug: string; role: string; plan: string; hasAuditLogs: boolean }[];
        csrfToken: string;
      };
      expect(body.user).toEqual({ id: adminId, email: adminEmail, name: "Ada Admin" });
      expect(body.csrfToken).toBe(csrfToken);
      const bySlug = Object.fromEntries(body.organizations.map((o) => [o.slug, o]));
      expect(Object.keys(bySlug).sort()).toEqual([freeSlug, teamSlug].sort());
      expect(bySlug[teamSlug]).toMatchObject({
        name: "Auth Team",
        plan: "team",
        role: "admin",
        hasAuditLogs: true,
      });
      expect(bySlug[freeSlug]).toMatchObject({
        plan: "free",
        role: "admin",
        hasAuditLogs: false,
        // PLAN_UPGRADE_URL's placeholder, with the organisation's slug.
        upgradeUrl: `https://example.com/pricing?org=${freeSlug}`,
      });
      expect(bySlug[teamSlug]).toMatchObject({ upgradeUrl: null });
      expect(bySlug[teamSlug]).toHaveProperty("id");
    });

    it("GET /v1/me without credentials is 401", async () => {
      const response = await app.request("/v1/me");
      expect(response.status).toBe(401);
      expect(((await response.json()) as ErrorJson).error.code).toBe("unauthorized");
    });

    it("logout requires X-CSRF-Token, then invalidates the session and clears the cookie", async () => {
      const { cookie, csrfToken } = await signIn();
      const noHeader = await app.request("/v1/auth/logout", {
        method: "POST",
        headers: { cookie },
      });
      expect(noHeader.status).toBe(403);
      const refused = (await noHeader.json()) as ErrorJson;
      expect(refused.error.code).toBe("forbidden");
      expect(refused.error.message).toContain("X-CSRF-Token");

      const wrongHeader = await app.request("/v1/auth/logout", {
        method: "POST",
        headers: { cookie, "x-csrf-token": `${csrfToken.slice(0, -1)}x` },
      });
      expect(wrongHeader.status).toBe(403);
      // Still signed in after the refused attempts.
      expect((await app.request("/v1/me", { headers: { cookie } })).status).toBe(200);

      const response = await app.request("/v1/auth/logout", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrfToken },
      });
      expect(response.status).toBe(200);
      expect(response.headers.get("set-cookie")).toMatch(/auditlog_session=;.*Max-Age=0/);
      expect((await app.request("/v1/me", { headers: { cookie } })).status).toBe(401);
    });

    it("an expired session is refused with 401", async () => {
      const cookieValue = randomBytes(32).toString("base64url");
      await createSession(services.db, {
        userId: adminId,
        tokenHash: createHash("sha256").update(cookieValue).digest(),
        csrfToken: "irrelevant",
        now: new Date(Date.now() - 13 * 3600 * 1000),
        expiresAt: new Date(Date.now() - 3600 * 1000),
      });
      const response = await app.request("/v1/me", {
        headers: { cookie: `auditlog_session=${cookieValue}` },
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as ErrorJson).error.message).toMatch(/session expired/);
    });

    it("an unknown cookie is refused with 401", async () => {
      const response = await app.request("/v1/me", {
        headers: { cookie: `auditlog_session=${randomBytes(32).toString("base64url")}` },
      });
      expect(response.status).toBe(401);
    });

    it("slides the expiry and re-sends the cookie at most once a minute", async () => {
      const { cookie } = await signIn();
      const cookieValue = cookie.split("=")[1] ?? "";
      const hash = createHash("sha256").update(cookieValue).digest();
      // Fresh session: no write, no new cookie.
      const fresh = await app.request("/v1/me", { headers: { cookie } });
      expect(fresh.headers.get("set-cookie")).toBeNull();

      const past = new Date(Date.now() - 5 * 60 * 1000);
      await driversOf(services.db).prisma.session.update({
        where: { tokenHash: hash },
        data: { lastSeenAt: past, expiresAt: new Date(Date.now() + 3600 * 1000) },
      });
      const stale = await app.request("/v1/me", { headers: { cookie } });
      expect(stale.status).toBe(200);
      expect(stale.headers.get("set-cookie")).toMatch(/auditlog_session=.*Max-Age=4320\d/);
      const row = await driversOf(services.db).prisma.session.findUniqueOrThrow({
        where: { tokenHash: hash },
      });
      expect(row.lastSeenAt.getTime()).toBeGreaterThan(past.getTime());
      expect(row.expiresAt.getTime()).toBeGreaterThan(Date.now() + 11 * 3600 * 1000);
    });
  });

  describe("personal access tokens", () => {
    it("are created once, work as bearer tokens, are listed without secrets and can be revoked", async () => {
      const { cookie, csrfToken } = await signIn();
      const created = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
        body: JSON.stringify({ name: "laptop script", expiresInDays: 30 }),
      });
      expect(created.status).toBe(201);
      const token = (await created.json()) as { id: string; name: string; token: string };
      expect(token.id).toMatch(/^pat_[0-9a-f]{24}$/);
      expect(token.name).toBe("laptop script");
      expect(token.token).toMatch(/^alp_[A-Za-z0-9_-]{43}$/);

      const bearer = { authorization: `Bearer ${token.token}` };
      const me = await app.request("/v1/me", { headers: bearer });
      expect(me.status).toBe(200);
      const meBody = (await me.json()) as { user: { id: string }; csrfToken?: string };
      expect(meBody.user.id).toBe(adminId);
      expect(meBody.csrfToken).toBeUndefined();

      const listed = await app.request("/v1/me/tokens", { headers: bearer });
      expect(listed.status).toBe(200);
      const listText = await listed.text();
      expect(listText).not.toContain(token.token);
      expect(listText).not.toContain(token.token.slice(10));
      const list = JSON.parse(listText) as { tokens: { id: string; lastUsedAt: string | null }[] };
      expect(list.tokens.find((t) => t.id === token.id)?.lastUsedAt).not.toBeNull();

      // A bearer-authenticated unsafe request needs no CSRF token (here: revoking itself).
      const revoked = await app.request(`/v1/me/tokens/${token.id}`, {
        method: "DELETE",
        headers: bearer,
      });
      expect(revoked.status).toBe(200);
      expect(((await revoked.json()) as { revokedAt: string | null }).revokedAt).not.toBeNull();

      const after = await app.request("/v1/me", { headers: bearer });
      expect(after.status).toBe(401);
    });

    it("cannot be created by a token, nor without the CSRF header", async () => {
      const { cookie, csrfToken } = await signIn();
      const noCsrf = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: { cookie, "content-type": "application/json" },
        body: JSON.stringify({ name: "x" }),
      });
      expect(noCsrf.status).toBe(403);
      const created = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
        body: JSON.stringify({ name: "first" }),
      });
      const { token } = (await created.json()) as { token: string };
      const minted = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ name: "second" }),
      });
      expect(minted.status).toBe(403);
    });

    it("someone else's token id is 404 on DELETE", async () => {
      const admin = await signIn();
      const created = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: {
          cookie: admin.cookie,
          "x-csrf-token": admin.csrfToken,
          "content-type": "application/json",
        },
        body: JSON.stringify({ name: "mine" }),
      });
      const { id, token } = (await created.json()) as { id: string; token: string };
      const writer = await signIn(writerEmail);
      const response = await app.request(`/v1/me/tokens/${id}`, {
        method: "DELETE",
        headers: { cookie: writer.cookie, "x-csrf-token": writer.csrfToken },
      });
      expect(response.status).toBe(404);
      expect(
        (await app.request("/v1/me", { headers: { authorization: `Bearer ${token}` } })).status,
      ).toBe(200);
    });

    it("an ingestion API key presented as bearer is refused with 401", async () => {
      const response = await app.request("/v1/me", {
        headers: { authorization: `Bearer ${apiKey}` },
      });
      expect(response.status).toBe(401);
      expect(((await response.json()) as ErrorJson).error.message).toBe(
        "API keys can only ingest events",
      );
    });

    it("a malformed or unknown bearer token is refused with 401", async () => {
      for (const value of ["nonsense", `alp_${randomBytes(32).toString("base64url")}`]) {
        const response = await app.request("/v1/me", {
          headers: { authorization: `Bearer ${value}` },
        });
        expect(response.status).toBe(401);
      }
    });
  });

  describe("requireOrgRole on a probe at GET /v1/orgs/:org/audit-logs", () => {
    const get = (slug: string, headers: Record<string, string> = {}) =>
      probe.request(`/v1/orgs/${slug}/audit-logs`, { headers });

    it("lets an admin of a team organisation through and sets c.var.org", async () => {
      const { cookie } = await signIn();
      const response = await get(teamSlug, { cookie });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({
        org: {
          id: expect.stringMatching(/^org_/),
          slug: teamSlug,
          name: "Auth Team",
          plan: "team",
        },
      });
    });

    it("refuses a member who is neither an admin nor an auditor with 403", async () => {
      const { cookie } = await signIn(writerEmail);
      const response = await get(teamSlug, { cookie });
      expect(response.status).toBe(403);
      const body = (await response.json()) as ErrorJson;
      expect(body.error.code).toBe("forbidden");
      expect(body.error.message).toBe(
        `only admins and auditors of ${teamSlug} can read its audit log`,
      );
    });

    it("answers a non-member exactly like a nonexistent organisation (404)", async () => {
      const { cookie } = await signIn();
      const notMember = await get(otherSlug, { cookie });
      const missing = await get(missingSlug, { cookie });
      expect(notMember.status).toBe(404);
      expect(missing.status).toBe(404);
      const a = (await notMember.json()) as ErrorJson;
      const b = (await missing.json()) as ErrorJson;
      expect(a.error).toMatchObject({ code: "not_found", message: "organization not found" });
      expect({ ...a.error, requestId: "" }).toEqual({ ...b.error, requestId: "" });
    });

    it("refuses an admin of a free organisation with 403 explaining the plan", async () => {
      const { cookie } = await signIn();
      const response = await get(freeSlug, { cookie });
      expect(response.status).toBe(403);
      const body = (await response.json()) as ErrorJson;
      expect(body.error.code).toBe("forbidden");
      expect(body.error.message).toMatch(/free plan.*no audit logs.*upgrade to team or enterprise/);
    });

    it("works with a personal access token too, and answers 401 without credentials", async () => {
      expect((await get(teamSlug)).status).toBe(401);
      const { cookie, csrfToken } = await signIn();
      const created = await app.request("/v1/me/tokens", {
        method: "POST",
        headers: { cookie, "x-csrf-token": csrfToken, "content-type": "application/json" },
        body: JSON.stringify({ name: "probe" }),
      });
      const { token } = (await created.json()) as { token: string };
      expect((await get(teamSlug, { authorization: `Bearer ${token}` })).status).toBe(200);
      expect((await get(teamSlug, { authorization: `Bearer ${apiKey}` })).status).toBe(401);
    });
  });
});
