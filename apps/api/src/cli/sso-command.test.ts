import { describe, expect, it } from "vitest";
import { describeSso, flagOfPath, ssoBodyFromFlags } from "./sso-command.ts";
import { flagRefusal } from "./testing.ts";

const secret = "s3cr3t-value-zyx9";

describe("sso set flags", () => {
  it("make the API's PUT body, keeping what has commands of its own", () => {
    expect(
      ssoBodyFromFlags(
        {
          issuer: "https://login.example.com",
          "client-id": "auditlog",
          "allowed-domains": "acme.com, acme.io",
          "role-claim": "roles",
          "role-rule": ["CN=Admins,OU=Groups=admin", "security=auditor"],
          "default-role": "none",
        },
        { requireSso: true, enabled: false },
        secret,
      ),
    ).toEqual({
      issuer: "https://login.example.com",
      clientId: "auditlog",
      clientSecret: secret,
      allowedDomains: ["acme.com", "acme.io"],
      roleClaim: "roles",
      // A group's value may hold "=" and ",": split at the last "=".
      roleRules: [
        { value: "CN=Admins,OU=Groups", role: "admin" },
        { value: "security", role: "auditor" },
      ],
      defaultRole: null,
      requireSso: true,
      enabled: false,
    });
    const kept = ssoBodyFromFlags(
      { issuer: "https://x.example", "client-id": "c", "default-role": "read" },
      { requireSso: false, enabled: true },
      undefined,
    );
    expect(kept).not.toHaveProperty("clientSecret");
    expect(kept).not.toHaveProperty("roleClaim");
    expect(kept.defaultRole).toBe("read");
    expect(
      flagRefusal(() => ssoBodyFromFlags({ "role-rule": ["admins"] }, kept as never, undefined)),
    ).toMatch(/^--role-rule "admins" must be <claim value>=<role>/);
  });

  it("name the flag an API field came from, with the value at fault", () => {
    const flags = {
      "allowed-domains": "acme.com,not a domain",
      "role-rule": ["a=admin", "b=owner"],
    };
    expect(flagOfPath("allowedDomains.1", flags)).toBe('--allowed-domains ("not a domain")');
    expect(flagOfPath("allowedDomains", flags)).toBe("--allowed-domains");
    expect(flagOfPath("roleRules.1.role", flags)).toBe('--role-rule "b=owner" (the 2nd)');
    expect(flagOfPath("clientSecret", flags)).toBe("--client-secret-file or --client-secret-stdin");
    expect(flagOfPath("clientId", flags)).toBe("--client-id");
    expect(flagOfPath("defaultRole", flags)).toBe("--default-role");
  });
});

describe("the client secret", () => {
  it("is shown by `sso show` only as its hint", () => {
    const text = describeSso("acme", {
      protocol: "oidc",
      issuer: "https://login.example.com",
      clientId: "auditlog",
      clientSecretHint: secret.slice(-4),
      allowedDomains: ["acme.com"],
      roleClaim: "groups",
      roleRules: [{ value: "admins", role: "admin" }],
      defaultRole: null,
      requireSso: true,
      enabled: true,
      redirectUri: "https://audit.example.com/v1/auth/sso/callback",
      signInUrl: "https://audit.example.com/v1/auth/sso/start?org=acme",
      updatedAt: "2026-12-02T00:00:00.000Z",
    });
    expect(text).toContain("client secret    …zyx9 (sealed)");
    expect(text).toContain("role rules       admins=admin");
    expect(text).toContain("required (members' passwords refused");
    expect(text).not.toContain(secret);
  });
});
