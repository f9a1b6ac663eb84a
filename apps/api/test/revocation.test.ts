import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createOrganization, upsertUserMembership } from "@auditlog/db";
import { testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { listen, SseClient } from "./support/sse-client.ts";
import {
  createMemberWithToken,
  post,
  sampleEvent,
  startTestApi,
  waitFor,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);
const password = "correct horse battery staple";

function fromAddress(ip: string) {
  return { incoming: { socket: { remoteAddress: ip, remotePort: 40000, remoteFamily: "IPv4" } } };
}
function randomIp(): string {
  const b = randomBytes(3);
  return `10.${b[0]}.${b[1]}.${b[2]}`;
}

describe("revoking credentials and access", () => {
  let stack: Stack;

  /** The operator CLI, as `pnpm auditlog … --json` runs it, against the test database and queue. */
  async function cli(...args: string[]): Promise<Record<string, unknown>> {
    const { stdout } = await run(
      process.execPath,
      ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
      {
        cwd: apiDir,
        env: {
          ...process.env,
          DATABASE_URL: testDatabaseUrl,
          INGEST_QUEUE: stack.env.INGEST_QUEUE,
          LOG_LEVEL: "error",
        },
        timeout: 60_000,
      },
    );
    return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
  }

  async function newOrg(label: string) {
    const slug = uniqueSlug(label);
    return createOrganization(stack.services.db, { slug, name: label, plan: "team" });
  }

  async function newUser(orgSlug: string, role: "admin" | "write" | "read", label: string = role) {
    const email = `${uniqueSlug(label)}@example.test`;
    const { user } = await upsertUserMembership(stack.services.db, {
      email,
      name: `${label} ${email.slice(0, 6)}`,
      passwordHash: await hashPassword(password),
      orgSlug,
      role,
    });
    return { ...user, email };
  }

  async function signIn(email: string, pw = password) {
    const response = await stack.app.request(
      "/v1/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password: pw }),
      },
      fromAddress(randomIp()),
    );
    if (response.status !== 200) return { status: response.status, cookie: "", csrfToken: "" };
    const value = /auditlog_session=([^;]*)/.exec(response.headers.get("set-cookie") ?? "")?.[1];
    const body = (await response.json()) as { csrfToken: string };
    return { status: 200, cookie: `auditlog_session=${value}`, csrfToken: body.csrfToken };
  }

  async function createToken(session: { cookie: string; csrfToken: string }) {
    const response = await stack.app.request("/v1/me/tokens", {
      method: "POST",
      headers: {
        cookie: session.cookie,
        "x-csrf-token": session.csrfToken,
        "content-type": "application/json",
      },
      body: JSON.stringify({ name: "script" }),
    });
    expect(response.status).toBe(201);
    return ((await response.json()) as { token: string }).token;
  }

  const asToken = (token: string) => ({ authorization: `Bearer ${token}` });
  const asSession = (session: { cookie: string }) => ({ cookie: session.cookie });
  const status = async (path: string, headers: Record<string, string>) =>
    (await stack.app.request(path, { headers })).status;

  async function queuedEvents(type: string) {
    const jobs = await stack.services.ingestQueue.getJobs(["wait", "delayed", "active"]);
    return jobs.flatMap((job) =>
      (
        job.data.events as {
          type: string;
          actor: { type: string; id: string };
          data: Record<string, unknown>;
          target?: { id: string };
        }[]
      ).filter((event) => event.type === type),
    );
  }

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true }).catch(() => {});
    await stack.services.close();
    await rm(stack.env.EXPORT_STORAGE_DIR, { recursive: true, force: true });
  });

  describe("POST /v1/auth/logout-everywhere", () => {
    it("ends every session of the signed-in user, and leaves their tokens and other users alone", async () => {
      const org = await newOrg("everywhere");
      const user = await newUser(org.slug, "admin");
      const other = await newUser(org.slug, "admin", "other");
      const laptop = await signIn(user.email);
      const phone = await signIn(user.email);
      const token = await createToken(laptop);
      const bystander = await signIn(other.email);

      const refused = await stack.app.request("/v1/auth/logout-everywhere", {
        method: "POST",
        headers: asSession(phone),
      });
      expect(refused.status).toBe(403); // CSRF, like every unsafe cookie request

      const response = await stack.app.request("/v1/auth/logout-everywhere", {
        method: "POST",
        headers: { ...asSession(phone), "x-csrf-token": phone.csrfToken },
      });
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sessionsEnded: 2 });
      expect(response.headers.get("set-cookie")).toMatch(/auditlog_session=;.*Max-Age=0/);
      expect(await status("/v1/me", asSession(laptop))).toBe(401);
      expect(await status("/v1/me", asSession(phone))).toBe(401);
      expect(await status("/v1/me", asToken(token))).toBe(200);
      expect(await status("/v1/me", asSession(bystander))).toBe(200);
    });
  });

  describe("open notification streams", () => {
    it("end once the credential that opened them is revoked", { timeout: 60_000 }, async () => {
      const org = await newOrg("stream");
      const user = await newUser(org.slug, "admin");
      const token = await createToken(await signIn(user.email));
      const { id } = (
        (await (await stack.app.request("/v1/me/tokens", { headers: asToken(token) })).json()) as {
          tokens: { id: string }[];
        }
      ).tokens[0] ?? { id: "" };
      const http = await listen(stack.app);
      const stream = await SseClient.open(`${http.url}/v1/notifications/stream`, token);
      try {
        await stream.waitForEvent("ready");
        const revoked = await stack.app.request(`/v1/me/tokens/${id}`, {
          method: "DELETE",
          headers: asToken(token),
        });
        expect(revoked.status).toBe(200);
        // Streams re-check their credential with every heartbeat (15 s).
        await stream.waitForEnd(25_000);
        expect(stream.events.filter((e) => e.event === "ready")).toHaveLength(1);
      } finally {
        stream.close();
        await http.close();
      }
    });
  });

  describe("DELETE /v1/orgs/:org/members/:userId", () => {
    it("takes the organisation away at once, by token and by session, and keeps the others", async () => {
      const org = await newOrg("members");
      const elsewhere = await newOrg("members-else");
      const admin = await newUser(org.slug, "admin");
      const leaving = await newUser(org.slug, "admin", "leaving");
      await upsertUserMembership(stack.services.db, {
        email: leaving.email,
        name: leaving.name,
        passwordHash: await hashPassword(password),
        orgSlug: elsewhere.slug,
        role: "admin",
      });
      const adminToken = await createToken(await signIn(admin.email));
      const session = await signIn(leaving.email);
      const token = await createToken(session);
      const exportsOf = (slug: string) => `/v1/orgs/${slug}/exports`;
      expect(await status(exportsOf(org.slug), asToken(token))).toBe(200);
      expect(await status(exportsOf(org.slug), asSession(session))).toBe(200);

      const removed = await stack.app.request(`/v1/orgs/${org.slug}/members/${leaving.id}`, {
        method: "DELETE",
        headers: asToken(adminToken),
      });
      expect(removed.status).toBe(200);
      expect(await removed.json()).toMatchObject({ userId: leaving.id, role: "admin" });

      for (const headers of [asToken(token), asSession(session)]) {
        expect(await status(exportsOf(org.slug), headers)).toBe(404);
        expect(await status(`/v1/orgs/${org.slug}/keys`, headers)).toBe(404);
        expect(await status(`/v1/orgs/${org.slug}/audit-logs`, headers)).toBe(404);
        // Still an admin elsewhere: those credentials keep working there.
        expect(await status(exportsOf(elsewhere.slug), headers)).toBe(200);
      }
      const me = await stack.app.request("/v1/me", { headers: asToken(token) });
      const slugs = ((await me.json()) as { organizations: { slug: string }[] }).organizations.map(
        (o) => o.slug,
      );
      expect(slugs).toEqual([elsewhere.slug]);

      // Recorded in the organisation's own log, by the admin who did it.
      const recorded = await waitFor(
        () => queuedEvents("org.remove_user"),
        (events) => events.some((e) => e.target?.id === leaving.id),
        5_000,
      );
      expect(recorded.find((e) => e.target?.id === leaving.id)).toMatchObject({
        actor: { type: "token", id: admin.id },
        data: { user: leaving.name, role: "admin" },
      });

      // Gone means gone: a second removal is a 404.
      const again = await stack.app.request(`/v1/orgs/${org.slug}/members/${leaving.id}`, {
        method: "DELETE",
        headers: asToken(adminToken),
      });
      expect(again.status).toBe(404);
    });

    it("refuses to remove the last admin (409), answers non-admins 403 and strangers 404", async () => {
      const org = await newOrg("last-admin");
      const admin = await newUser(org.slug, "admin");
      const reader = await newUser(org.slug, "read");
      const adminSession = await signIn(admin.email);
      const adminToken = await createToken(adminSession);
      const readerToken = await createToken(await signIn(reader.email));

      const self = await stack.app.request(`/v1/orgs/${org.slug}/members/${admin.id}`, {
        method: "DELETE",
        headers: asToken(adminToken),
      });
      expect(self.status).toBe(409);
      expect(await status(`/v1/orgs/${org.slug}/exports`, asToken(adminToken))).toBe(200);

      const byReader = await stack.app.request(`/v1/orgs/${org.slug}/members/${admin.id}`, {
        method: "DELETE",
        headers: asToken(readerToken),
      });
      expect(byReader.status).toBe(403);
      const stranger = await stack.app.request(`/v1/orgs/${org.slug}/members/usr_nobody`, {
        method: "DELETE",
        headers: asToken(adminToken),
      });
      expect(stranger.status).toBe(404);
      // The CSRF header is required for a cookie-authenticated removal.
      const noCsrf = await stack.app.request(`/v1/orgs/${org.slug}/members/${reader.id}`, {
        method: "DELETE",
        headers: asSession(adminSession),
      });
      expect(noCsrf.status).toBe(403);
      expect(await status(`/v1/orgs/${org.slug}/exports`, asToken(readerToken))).toBe(403);
    });
  });

  describe("the operator CLI", () => {
    it("user set-password ends every session, and revokes tokens with --revoke-tokens", {
      timeout: 120_000,
    }, async () => {
      const org = await newOrg("set-password");
      const user = await newUser(org.slug, "admin");
      const session = await signIn(user.email);
      const token = await createToken(session);

      const changed = await cli("user", "set-password", user.email, "--password", "a new password");
      expect(changed).toMatchObject({ email: user.email, sessionsEnded: 1, tokensRevoked: 0 });
      expect(await status("/v1/me", asSession(session))).toBe(401);
      expect(await status("/v1/me", asToken(token))).toBe(200);
      expect((await signIn(user.email)).status).toBe(401);
      const fresh = await signIn(user.email, "a new password");
      expect(fresh.status).toBe(200);

      // A real password from a file, not argv (visible in ps).
      const passwordFile = join(mkdtempSync(join(tmpdir(), "auditlog-password-")), "pw");
      writeFileSync(passwordFile, "another new password\n");
      const again = await cli(
        "user",
        "set-password",
        user.email,
        "--password-file",
        passwordFile,
        "--revoke-tokens",
      );
      expect(again).toMatchObject({ sessionsEnded: 1, tokensRevoked: 1 });
      expect(await status("/v1/me", asToken(token))).toBe(401);
      expect(await status("/v1/me", asSession(fresh))).toBe(401);
      expect((await signIn(user.email, "another new password")).status).toBe(200);
    });

    it("member remove takes the organisation away at once and records it", {
      timeout: 120_000,
    }, async () => {
      const org = await newOrg("cli-member");
      await newUser(org.slug, "admin");
      const member = await createMemberWithToken(org.slug, "admin");
      expect(await status(`/v1/orgs/${org.slug}/exports`, asToken(member.token))).toBe(200);

      const removed = await cli(
        "member",
        "remove",
        "--org",
        org.slug,
        "--email",
        member.user.email,
      );
      expect(removed).toMatchObject({ org: org.slug, userId: member.user.id, role: "admin" });
      expect(await status(`/v1/orgs/${org.slug}/exports`, asToken(member.token))).toBe(404);
      const recorded = await waitFor(
        () => queuedEvents("org.remove_user"),
        (events) => events.some((e) => e.target?.id === member.user.id),
        5_000,
      );
      expect(recorded.find((e) => e.target?.id === member.user.id)?.actor.type).toBe("system");
    });

    it("key list and key revoke: the id key create prints, refused by the API within seconds", {
      timeout: 120_000,
    }, async () => {
      const org = await newOrg("cli-keys");
      const created = await cli("key", "create", "--org", org.slug, "--name", "platform");
      const key = String(created.key);
      expect((await post(stack.app, key, sampleEvent(1))).status).toBe(202);

      const listed = await cli("key", "list", "--org", org.slug);
      const keys = listed.keys as { id: string; name: string; prefix: string; revokedAt: null }[];
      expect(keys).toHaveLength(1);
      expect(keys[0]).toMatchObject({ id: created.id, name: "platform", revokedAt: null });
      expect(JSON.stringify(listed)).not.toContain(key);

      const revoked = await cli("key", "revoke", "--org", org.slug, "--key", String(created.id));
      expect(revoked).toMatchObject({ id: created.id, org: org.slug });
      expect(revoked.revokedAt).toEqual(expect.any(String));
      const refused = await waitFor(
        async () => (await post(stack.app, key, sampleEvent(2))).status,
        (code) => code === 401,
        4_000,
      );
      expect(refused).toBe(401);
      const after = await cli("key", "list", "--org", org.slug);
      expect((after.keys as { revokedAt: string | null }[])[0]?.revokedAt).toBe(revoked.revokedAt);
    });
  });
});
