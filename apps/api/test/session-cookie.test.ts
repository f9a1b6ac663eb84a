import { randomBytes } from "node:crypto";
import { upsertUserMembership } from "@auditlog/db";
import { uniqueSlug } from "@auditlog/db/testing";
import { afterAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import { createOrgWithKey, startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const password = "correct horse battery staple";

function fromAddress(ip: string) {
  return { incoming: { socket: { remoteAddress: ip, remotePort: 40000, remoteFamily: "IPv4" } } };
}

describe("the session cookie follows PUBLIC_URL", () => {
  const stacks: Stack[] = [];
  afterAll(async () => {
    for (const stack of stacks) await stack.services.close();
  });

  async function signIn(overrides: Record<string, string>) {
    const stack = await startTestApi(overrides);
    stacks.push(stack);
    const { org } = await createOrgWithKey("team", "cookie");
    const email = `${uniqueSlug("cookie")}@example.test`;
    await upsertUserMembership(stack.services.db, {
      email,
      name: "Cookie",
      passwordHash: await hashPassword(password),
      orgSlug: org.slug,
      role: "admin",
    });
    const response = await stack.app.request(
      "/v1/auth/login",
      {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ email, password }),
      },
      fromAddress(`10.9.${randomBytes(1)[0]}.${randomBytes(1)[0]}`),
    );
    expect(response.status).toBe(200);
    return { stack, setCookie: response.headers.get("set-cookie") ?? "" };
  }

  it("is Secure and __Host- prefixed (Path=/, no Domain) when PUBLIC_URL is https", async () => {
    const { stack, setCookie } = await signIn({ PUBLIC_URL: "https://audit.example.com" });
    const match = /^__Host-auditlog_session=([A-Za-z0-9_-]{43});/.exec(setCookie);
    expect(match, setCookie).not.toBeNull();
    expect(setCookie).toMatch(/; Secure(;|$)/);
    expect(setCookie).toMatch(/; Path=\/(;|$)/);
    expect(setCookie).toContain("HttpOnly");
    expect(setCookie).toContain("SameSite=Lax");
    expect(setCookie).not.toMatch(/Domain=/i);

    const value = match?.[1] ?? "";
    const me = await stack.app.request("/v1/me", {
      headers: { cookie: `__Host-auditlog_session=${value}` },
    });
    expect(me.status).toBe(200);
    // The unprefixed name (which a sibling subdomain could set) is not read there.
    const unprefixed = await stack.app.request("/v1/me", {
      headers: { cookie: `auditlog_session=${value}` },
    });
    expect(unprefixed.status).toBe(401);
  });

  it("stays a plain cookie on the default http://127.0.0.1 address, so local sign-in works", async () => {
    const { setCookie } = await signIn({});
    expect(setCookie).toMatch(/^auditlog_session=[A-Za-z0-9_-]{43};/);
    expect(setCookie).not.toMatch(/Secure/);
  });
});
