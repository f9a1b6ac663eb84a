import { spawn } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { upsertUserMembership } from "@auditlog/db";
import { createTestPool, testDatabaseUrl } from "@auditlog/db/testing";
import { ssoErrorMessages } from "@auditlog/events";
import { createLogger } from "@auditlog/observability";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { startTestProvider, type TestProvider } from "./support/oidc-provider.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * Single sign-on with OpenID Connect (issue 20) at the API, against a real OpenID provider
 * (`oidc-provider` on 127.0.0.1, test/support/oidc-provider.ts) whose login page the test fills
 * like a browser would (its cookies kept by hand): first sign-in creates the member with the
 * mapped role, a changed group changes the role at the next sign-in (both recorded in the log),
 * "require SSO" refuses members' passwords (admins keep theirs), and every bad input is refused
 * back to the sign-in page with its reason and nothing created: an unreachable or invalid
 * issuer, a forged state, a replayed callback, a replayed code, a nonce mismatch, a token from
 * another issuer, a wrong audience, an email outside the allowed domains.
 */

const publicUrl = `http://127.0.0.1:${40000 + (process.pid % 20000)}`;
const apiDir = fileURLToPath(new URL("..", import.meta.url));
const password = "correct horse battery staple";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

function cookieOf(response: Response, name: string): string | undefined {
  for (const line of response.headers.getSetCookie()) {
    const match = new RegExp(`^${name}=([^;]*)`).exec(line);
    if (match) return match[1];
  }
  return undefined;
}

describe("single sign-on with OpenID Connect", () => {
  let stack: Stack;
  let provider: TestProvider;
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  const pool = createTestPool();
  let orgSlug: string;
  let orgId: string;
  let adminToken: string;
  let adminEmail: string;
  let adminId: string;
  const suffix = randomBytes(3).toString("hex");

  function putConfig(slug: string, token: string, body: Record<string, unknown>) {
    return stack.app.request(`/v1/orgs/${slug}/sso`, {
      method: "PUT",
      headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
      body: JSON.stringify(body),
    });
  }

  const baseConfig = () => ({
    issuer: provider.issuer,
    clientId: provider.clientId,
    clientSecret: provider.clientSecret,
    allowedDomains: ["acme.test"],
    roleClaim: "groups",
    roleRules: [
      { value: "auditlog-admins", role: "admin" },
      { value: "engineering", role: "write" },
    ],
    defaultRole: "read",
  });

  /** From `start` to the provider's redirect back: the callback path and the pending cookie. */
  async function throughProvider(login: string, slug = orgSlug) {
    const start = await stack.app.request(`/v1/auth/sso/start?org=${slug}`);
    expect(start.status).toBe(303);
    const pending = cookieOf(start, "auditlog_sso");
    const jar = new Map<string, string>();
    const idp = async (url: string, init: RequestInit = {}) => {
      const response = await fetch(url, {
        ...init,
        redirect: "manual",
        headers: {
          ...(init.headers as Record<string, string>),
          cookie: [...jar].map(([k, v]) => `${k}=${v}`).join("; "),
        },
      });
      for (const line of response.headers.getSetCookie()) {
        const [pair] = line.split(";");
        const at = pair?.indexOf("=") ?? -1;
        if (pair && at > 0) jar.set(pair.slice(0, at), pair.slice(at + 1));
      }
      return response;
    };
    let location = start.headers.get("location") ?? "";
    expect(location.startsWith(provider.issuer), location).toBe(true);
    for (let hop = 0; hop < 10; hop++) {
      if (location.startsWith(publicUrl)) {
        return { callbackPath: location.slice(publicUrl.length), pending };
      }
      const url = new URL(location, provider.issuer).href;
      const response = /\/interaction\//.test(url)
        ? await idp(url, {
            method: "POST",
            headers: { "content-type": "application/x-www-form-urlencoded" },
            body: new URLSearchParams({ login }).toString(),
          })
        : await idp(url);
      location = response.headers.get("location") ?? "";
      expect(location, `${url} answered ${response.status}`).not.toBe("");
    }
    throw new Error("the provider never redirected back");
  }

  function callback(path: string, pending: string | undefined) {
    return stack.app.request(path, {
      headers: pending ? { cookie: `auditlog_sso=${pending}` } : {},
    });
  }

  function refusalOf(response: Response): string | null {
    expect(response.status).toBe(303);
    const location = new URL(response.headers.get("location") ?? "", publicUrl);
    expect(location.pathname).toBe("/");
    return location.searchParams.get("sso_error");
  }

  async function entriesOf(type: string, org = orgId) {
    const { rows } = await pool.query<{
      actor_type: string;
      actor_id: string;
      target_id: string | null;
      description: string;
      data: Record<string, unknown>;
    }>(
      `SELECT actor_type, actor_id, target_id, description, data FROM audit_entries
        WHERE org_id = $1 AND type = $2 ORDER BY seq`,
      [org, type],
    );
    return rows;
  }

  async function userExists(email: string): Promise<boolean> {
    const { rows } = await pool.query("SELECT 1 FROM users WHERE email = $1", [email]);
    return rows.length > 0;
  }

  async function roleOf(email: string): Promise<string | null> {
    const { rows } = await pool.query<{ role: string }>(
      `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
        WHERE u.email = $1 AND m.org_id = $2`,
      [email, orgId],
    );
    return rows[0]?.role ?? null;
  }

  function account(name: string, groups: string[], domain = "acme.test") {
    const email = `${name}-${suffix}@${domain}`;
    provider.accounts.set(`${name}-${suffix}`, { email, name: `${name} ${suffix}`, groups });
    return { login: `${name}-${suffix}`, email };
  }

  beforeAll(async () => {
    stack = await startTestApi({ SSO_ALLOW_LOCAL_ISSUERS: "true", PUBLIC_URL: publicUrl });
    provider = await startTestProvider({ redirectUri: `${publicUrl}/v1/auth/sso/callback` });
    const { org } = await createOrgWithKey("team", "sso");
    orgSlug = org.slug;
    orgId = org.id;
    const admin = await createMemberWithToken(org.slug, "admin");
    adminToken = admin.token;
    adminEmail = admin.user.email;
    adminId = admin.user.id;
    worker = await startTestWorker(stack);
  }, 60_000);

  afterAll(async () => {
    await worker?.stop();
    await provider?.stop();
    await stack?.services.close();
    await pool.end();
  });

  it("refuses a bad configuration naming the field, then seals the client secret", async () => {
    const missingSecret = await putConfig(orgSlug, adminToken, {
      ...baseConfig(),
      clientSecret: undefined,
      roleRules: [{ value: "x", role: "owner" }],
      allowedDomains: ["not a domain"],
    });
    expect(missingSecret.status).toBe(400);
    const body = (await missingSecret.json()) as { error: { details: { path: string }[] } };
    expect(body.error.details.map((d) => d.path).sort()).toEqual(["allowedDomains.0"]);
    const badRole = await putConfig(orgSlug, adminToken, {
      ...baseConfig(),
      clientSecret: undefined,
      roleRules: [{ value: "x", role: "owner" }],
    });
    expect(badRole.status).toBe(400);
    const paths = (
      (await badRole.json()) as { error: { details: { path: string }[] } }
    ).error.details
      .map((d) => d.path)
      .sort();
    expect(paths).toEqual(["clientSecret", "roleRules.0.role"]);

    const saved = await putConfig(orgSlug, adminToken, baseConfig());
    expect(saved.status).toBe(200);
    const config = (await saved.json()) as Record<string, unknown>;
    expect(config.clientSecretHint).toBe(provider.clientSecret.slice(-4));
    expect(JSON.stringify(config)).not.toContain(provider.clientSecret);
    expect(config.redirectUri).toBe(`${publicUrl}/v1/auth/sso/callback`);
    const { rows } = await pool.query<{ client_secret_sealed: string }>(
      "SELECT client_secret_sealed FROM org_sso_configs WHERE org_id = $1",
      [orgId],
    );
    expect(rows[0]?.client_secret_sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(rows[0]?.client_secret_sealed).not.toContain(provider.clientSecret);
  });

  it("creates the member with the mapped role at the first sign-in, with the password sign-in's session", async () => {
    const alice = account("alice", ["engineering"]);
    expect(await userExists(alice.email)).toBe(false);
    const { callbackPath, pending } = await throughProvider(alice.login);
    const done = await callback(callbackPath, pending);
    expect(done.status).toBe(303);
    expect(done.headers.get("location")).toBe(`/orgs/${orgSlug}`);
    const session = cookieOf(done, "auditlog_session");
    expect(session).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const me = await stack.app.request("/v1/me", {
      headers: { cookie: `auditlog_session=${session}` },
    });
    expect(me.status).toBe(200);
    expect(((await me.json()) as { user: { email: string } }).user.email).toBe(alice.email);
    expect(await roleOf(alice.email)).toBe("write");
  });

  it("changes the role at the next sign-in when the group changed, and records it", async () => {
    const bob = account("bob", ["engineering"]);
    let flow = await throughProvider(bob.login);
    expect((await callback(flow.callbackPath, flow.pending)).status).toBe(303);
    expect(await roleOf(bob.email)).toBe("write");
    provider.accounts.set(bob.login, {
      ...(provider.accounts.get(bob.login) as { email: string }),
      groups: ["auditlog-admins"],
    });
    flow = await throughProvider(bob.login);
    const again = await callback(flow.callbackPath, flow.pending);
    expect(again.headers.get("location")).toBe(`/orgs/${orgSlug}`);
    expect(await roleOf(bob.email)).toBe("admin");

    const entries = await waitFor(
      async () =>
        (
          await pool.query<{ type: string; actor_type: string; data: Record<string, unknown> }>(
            `SELECT type, actor_type, data FROM audit_entries
              WHERE org_id = $1 AND (data->>'user' = $2 OR actor_name = $3) ORDER BY seq`,
            [orgId, bob.email, `bob ${suffix}`],
          )
        ).rows,
      (rows) => rows.length >= 4,
    );
    expect(entries.map((entry) => entry.type)).toEqual([
      "org.sso_join",
      "org.sso_login",
      "org.change_role",
      "org.sso_login",
    ]);
    const change = entries[2];
    expect(change?.actor_type).toBe("system");
    expect(change?.data).toMatchObject({ oldRole: "write", newRole: "admin", via: "sso" });
  });

  it("refuses members' passwords when the organisation requires SSO; its admins keep theirs", async () => {
    const member = `member-${suffix}@acme.test`;
    await upsertUserMembership(stack.services.db, {
      email: member,
      name: "member",
      passwordHash: await hashPassword(password),
      orgSlug,
      role: "write",
    });
    await upsertUserMembership(stack.services.db, {
      email: adminEmail,
      name: "admin",
      passwordHash: await hashPassword(password),
      orgSlug,
      role: "admin",
    });
    const login = (email: string) =>
      stack.app.request("/v1/auth/login", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      });
    expect((await login(member)).status).toBe(200);
    expect(
      (await putConfig(orgSlug, adminToken, { ...baseConfig(), requireSso: true })).status,
    ).toBe(200);
    const refused = await login(member);
    expect(refused.status).toBe(403);
    const body = (await refused.json()) as {
      error: { message: string; details: { path: string }[] };
    };
    expect(body.error.message).toContain("requires single sign-on");
    expect(body.error.details[0]?.path).toBe("password");
    expect((await login(adminEmail)).status).toBe(200);
    // The break-glass sign-in is an entry of its own in the organisation's log, by the admin.
    const breakGlass = await waitFor(
      () => entriesOf("org.sso_break_glass"),
      (rows) => rows.length >= 1,
    );
    expect(breakGlass).toEqual([
      expect.objectContaining({
        actor_type: "user",
        actor_id: adminId,
        target_id: orgSlug,
        data: { protocol: "oidc", role: "admin" },
      }),
    ]);
    expect(breakGlass[0]?.description).toMatch(/signed in with a password .* \(break-glass\)$/);
    expect((await putConfig(orgSlug, adminToken, baseConfig())).status).toBe(200);
    // Once SSO is no longer required, an admin's password sign-in is an ordinary one: the
    // settings change recorded after it is in the log, and still one break-glass entry.
    expect((await login(adminEmail)).status).toBe(200);
    expect(
      (await putConfig(orgSlug, adminToken, { ...baseConfig(), defaultRole: "auditor" })).status,
    ).toBe(200);
    await waitFor(
      () => entriesOf("org.settings.sso"),
      (rows) => rows.some((row) => JSON.stringify(row.data).includes("defaultRole")),
    );
    expect(await entriesOf("org.sso_break_glass")).toHaveLength(1);
    expect((await putConfig(orgSlug, adminToken, baseConfig())).status).toBe(200);
  });

  it("refuses an unreachable and an invalid issuer on the sign-in page", async () => {
    const { org } = await createOrgWithKey("team", "sso-bad");
    const admin = await createMemberWithToken(org.slug, "admin");
    const closedPort = `http://127.0.0.1:${(Number(new URL(provider.issuer).port) % 60000) + 1}`;
    expect(
      (await putConfig(org.slug, admin.token, { ...baseConfig(), issuer: closedPort })).status,
    ).toBe(200);
    expect(refusalOf(await stack.app.request(`/v1/auth/sso/start?org=${org.slug}`))).toBe(
      "issuer_unreachable",
    );
    const invalid = { ...baseConfig(), issuer: `${provider.issuer}/not-an-issuer` };
    expect((await putConfig(org.slug, admin.token, invalid)).status).toBe(200);
    expect(refusalOf(await stack.app.request(`/v1/auth/sso/start?org=${org.slug}`))).toBe(
      "issuer_invalid",
    );
    expect(refusalOf(await stack.app.request("/v1/auth/sso/start?org=no-such-org"))).toBe(
      "not_configured",
    );
  });

  it("refuses a forged state, and nothing is created", async () => {
    const mallory = account("mallory", ["auditlog-admins"]);
    const { callbackPath, pending } = await throughProvider(mallory.login);
    const forged = callbackPath.replace(
      /state=[^&]+/,
      `state=${randomBytes(32).toString("base64url")}`,
    );
    expect(forged).not.toBe(callbackPath);
    expect(refusalOf(await callback(forged, pending))).toBe("state_mismatch");
    expect(refusalOf(await callback(callbackPath, undefined))).toBe("expired");
    expect(await userExists(mallory.email)).toBe(false);
  });

  it("refuses a replayed callback and a replayed code", async () => {
    const carol = account("carol", ["engineering"]);
    const first = await throughProvider(carol.login);
    expect((await callback(first.callbackPath, first.pending)).headers.get("location")).toBe(
      `/orgs/${orgSlug}`,
    );
    expect(refusalOf(await callback(first.callbackPath, first.pending))).toBe("replayed");
    // The used code under a fresh sign-in's own state: the provider refuses the code.
    const second = await throughProvider(carol.login);
    const code = new URL(first.callbackPath, publicUrl).searchParams.get("code") ?? "";
    const replayed = second.callbackPath.replace(/code=[^&]+/, `code=${code}`);
    expect(refusalOf(await callback(replayed, second.pending))).toBe("code_rejected");
  });

  it.each([
    ["a wrong audience", { aud: "other-app" }, "wrong_audience"],
    ["a token from another issuer", { iss: "http://127.0.0.1:1" }, "wrong_issuer"],
    ["a nonce mismatch", { nonce: "not-this-sign-in" }, "nonce_mismatch"],
  ] as const)("refuses %s, and nothing is created", async (_what, tamper, code) => {
    const eve = account(`eve${code.length}${code.slice(0, 3)}`, ["auditlog-admins"]);
    const { callbackPath, pending } = await throughProvider(eve.login);
    provider.tamperIdToken = tamper;
    try {
      expect(refusalOf(await callback(callbackPath, pending))).toBe(code);
    } finally {
      provider.tamperIdToken = null;
    }
    expect(await userExists(eve.email)).toBe(false);
  });

  it("refuses an email outside the allowed domains, and nothing is created nor logged of it", async () => {
    const outsider = account("outsider", ["auditlog-admins"], "elsewhere.test");
    const { callbackPath, pending } = await throughProvider(outsider.login);
    // The API's own logger, writing its JSON lines here instead of stderr.
    const lines: string[] = [];
    const sink = { write: (line: string) => void lines.push(line) };
    const apiLogger = stack.services.logger;
    stack.services.logger = createLogger("api", "warn", { stdout: sink, stderr: sink });
    try {
      expect(refusalOf(await callback(callbackPath, pending))).toBe("email_domain");
    } finally {
      stack.services.logger = apiLogger;
    }
    expect(await userExists(outsider.email)).toBe(false);
    const refusals = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(refusals).toEqual([
      expect.objectContaining({
        level: "warn",
        message: "sso sign-in refused",
        reason: "email_domain",
        detail: ssoErrorMessages.email_domain,
      }),
    ]);
    expect(lines.join("\n")).not.toContain("elsewhere");
    expect(lines.join("\n")).not.toContain(outsider.login);
  });
  describe("the operator CLI (pnpm auditlog sso …)", () => {
    /** The CLI as an operator runs it: a process of its own, on this stack's database and queue. */
    function cli(args: string[], stdin?: string) {
      return new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
        const child = spawn(process.execPath, ["--import", "tsx", "src/cli/main.ts", ...args], {
          cwd: apiDir,
          env: {
            ...process.env,
            DATABASE_URL: testDatabaseUrl,
            INGEST_QUEUE: stack.env.INGEST_QUEUE,
            SECRETS_KEY_FILE: stack.env.SECRETS_KEY_FILE,
            SSO_ALLOW_LOCAL_ISSUERS: "true",
            PUBLIC_URL: publicUrl,
            LOG_LEVEL: "error",
          },
        });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (chunk) => {
          stdout += chunk;
        });
        child.stderr.on("data", (chunk) => {
          stderr += chunk;
        });
        child.on("close", (code) => resolve({ code, stdout, stderr }));
        child.stdin.end(stdin ?? "");
      });
    }
    const json = (out: { stdout: string }) =>
      JSON.parse(out.stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;

    it("sets SSO with the secret from a file, sealed with SECRETS_KEY_FILE, and a sign-in works with it", {
      timeout: 300_000,
    }, async () => {
      const { org } = await createOrgWithKey("team", "sso-cli");
      await createMemberWithToken(org.slug, "admin");
      const dir = mkdtempSync(join(tmpdir(), "auditlog-sso-cli-"));
      const secretFile = join(dir, "client-secret");
      writeFileSync(secretFile, `${provider.clientSecret}\n`, { mode: 0o600 });
      const setArgs = [
        "sso",
        "set",
        "--org",
        org.slug,
        "--issuer",
        provider.issuer,
        "--client-id",
        provider.clientId,
        "--allowed-domains",
        "acme.test",
        "--role-rule",
        "auditlog-admins=admin",
        "--role-rule",
        "engineering=auditor",
        "--default-role",
        "read",
      ];
      const [set, noSecret] = await Promise.all([
        cli([...setArgs, "--client-secret-file", secretFile, "--json"]),
        // An organisation that does not exist: one line, exit 1.
        cli([...setArgs.slice(0, 4).map((a) => (a === org.slug ? "no-such-org" : a))]),
      ]);
      expect(set.stderr).toBe("");
      expect(set.code).toBe(0);
      expect(json(set)).toMatchObject({
        org: org.slug,
        issuer: provider.issuer,
        clientSecretHint: provider.clientSecret.slice(-4),
        allowedDomains: ["acme.test"],
        roleRules: [
          { value: "auditlog-admins", role: "admin" },
          { value: "engineering", role: "auditor" },
        ],
        defaultRole: "read",
        requireSso: false,
        enabled: true,
      });
      expect(set.stdout).not.toContain(provider.clientSecret);
      expect(noSecret).toMatchObject({
        code: 1,
        stderr: 'error: organization "no-such-org" does not exist\n',
      });
      const { rows } = await pool.query<{ client_secret_sealed: string }>(
        "SELECT client_secret_sealed FROM org_sso_configs WHERE org_id = $1",
        [org.id],
      );
      expect(rows[0]?.client_secret_sealed).toMatch(/^v1\./);
      expect(rows[0]?.client_secret_sealed).not.toContain(provider.clientSecret);

      // The API opens what the CLI sealed: a member signs in through the provider.
      const dana = account("dana", ["engineering"]);
      const flow = await throughProvider(dana.login, org.slug);
      expect((await callback(flow.callbackPath, flow.pending)).headers.get("location")).toBe(
        `/orgs/${org.slug}`,
      );
      const { rows: roles } = await pool.query<{ role: string }>(
        `SELECT m.role FROM memberships m JOIN users u ON u.id = m.user_id
          WHERE u.email = $1 AND m.org_id = $2`,
        [dana.email, org.id],
      );
      expect(roles).toEqual([{ role: "auditor" }]);

      // show (text): the secret only as its hint; require on, disable, each recorded.
      const [shown, required] = await Promise.all([
        cli(["sso", "show", "--org", org.slug]),
        cli(["sso", "require", "--org", org.slug, "on", "--json"]),
      ]);
      expect(shown.code).toBe(0);
      expect(shown.stdout).toContain(
        `client secret    …${provider.clientSecret.slice(-4)} (sealed)`,
      );
      expect(shown.stdout).not.toContain(provider.clientSecret);
      expect(json(required)).toMatchObject({ requireSso: true, enabled: true });
      const again = await cli(["sso", "require", "--org", org.slug, "on"]);
      expect(again.stdout).toContain("already so: nothing changed");
      const disabled = await cli(["sso", "disable", "--org", org.slug, "--json"]);
      expect(json(disabled)).toMatchObject({ requireSso: true, enabled: false });
      // The secret left out of a later `set` is kept, as by the API.
      const reset = await cli([
        ...setArgs,
        "--allowed-domains",
        "acme.test,acme.example",
        "--json",
      ]);
      expect(json(reset)).toMatchObject({
        clientSecretHint: provider.clientSecret.slice(-4),
        allowedDomains: ["acme.test", "acme.example"],
        requireSso: true,
        enabled: false,
      });

      const recorded = await waitFor(
        async () => [
          ...(await entriesOf("org.settings.sso", org.id)),
          ...(await entriesOf("org.settings.sso.disable", org.id)),
        ],
        (entries) => entries.length >= 5,
      );
      expect(recorded.map((entry) => [entry.actor_type, entry.actor_id, entry.data])).toEqual([
        ["system", "auditlog-cli", { protocol: "oidc", fields: ["created"] }],
        ["system", "auditlog-cli", { protocol: "oidc", fields: ["requireSso"] }],
        ["system", "auditlog-cli", { protocol: "oidc", fields: ["enabled"] }],
        ["system", "auditlog-cli", { protocol: "oidc", fields: ["allowedDomains"] }],
        ["system", "auditlog-cli", { protocol: "oidc" }],
      ]);
    });

    it("refuses bad input naming the flag, with no stack trace and the secret never echoed", {
      timeout: 300_000,
    }, async () => {
      const { org } = await createOrgWithKey("team", "sso-cli-bad");
      const dir = mkdtempSync(join(tmpdir(), "auditlog-sso-cli-"));
      const secretFile = join(dir, "client-secret");
      writeFileSync(secretFile, "cli-secret-value-4321\n");
      const base = [
        "sso",
        "set",
        "--org",
        org.slug,
        "--issuer",
        provider.issuer,
        "--client-id",
        "auditlog",
      ];
      const results = await Promise.all([
        cli([
          ...base,
          "--allowed-domains",
          "acme.test,not a domain",
          "--client-secret-file",
          secretFile,
        ]),
        cli(
          [
            ...base,
            "--allowed-domains",
            "acme.test",
            "--role-rule",
            "admins=owner",
            "--client-secret-stdin",
          ],
          "cli-secret-value-4321\n",
        ),
        cli([
          ...base,
          "--allowed-domains",
          "acme.test",
          "--client-secret",
          "cli-secret-value-4321",
        ]),
        cli([...base, "--allowed-domains", "acme.test"]),
        cli([
          "sso",
          "set",
          "--org",
          org.slug,
          "--client-id",
          "x",
          "--allowed-domains",
          "acme.test",
          "--client-secret-file",
          secretFile,
        ]),
        cli(["sso", "require", "--org", org.slug, "maybe"]),
        cli(["sso", "show", "--org", org.slug]),
      ]);
      expect(results.map((result) => result.stderr)).toEqual([
        'error: --allowed-domains ("not a domain") must be a domain name such as example.com\n',
        `error: --role-rule "admins=owner" (the 1st) must be one of admin, auditor, write, read\n`,
        "error: --client-secret is not accepted: arguments are visible to other users (ps); use --client-secret-file <path> or --client-secret-stdin\n",
        "error: --client-secret-file or --client-secret-stdin is required when SSO is first configured\n",
        "error: --issuer is required\n",
        "error: sso require takes on or off (sso require --org <slug> on)\n",
        `error: ${org.slug} has no single sign-on: set it up first with pnpm auditlog sso set --org ${org.slug} …\n`,
      ]);
      for (const result of results) {
        expect(result.code).toBe(1);
        expect(result.stdout).not.toContain("cli-secret-value-4321");
      }
      const { rows } = await pool.query("SELECT 1 FROM org_sso_configs WHERE org_id = $1", [
        org.id,
      ]);
      expect(rows).toEqual([]);
    });
  });
});
