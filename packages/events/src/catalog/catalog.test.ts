import { describe, expect, it } from "vitest";
import { z } from "zod";
import type { Target } from "../envelope.ts";
import { hubExportSchema } from "../hub-export-schema.ts";
import { formatPath, validateEvent } from "../validation.ts";
import {
  type AuditEvent,
  auditEventSchema,
  categoryOf,
  describeEvent,
  type EventType,
  eventDefinitions,
  eventTypes,
  getEventDefinition,
  isReservedForApi,
} from "./index.ts";

const hubTypes = hubExportSchema.items.properties.type.enum;

/** PRODUCT.md §3, in its order. */
const productTypes = [
  // Organisation management & security
  "org.create",
  "org.delete",
  "org.restore",
  "org.rename",
  "org.update_settings",
  "org.settings.profile",
  "org.settings.regions",
  "org.settings.resource_groups",
  "org.settings.publisher_gating",
  "org.settings.sso",
  "org.settings.sso.enable",
  "org.settings.sso.disable",
  "org.settings.security.repo_visibility",
  "org.settings.security.2fa.enable",
  "org.settings.security.2fa.disable",
  "org.settings.security.auto_join.enable",
  "org.settings.security.auto_join.disable",
  "org.settings.security.members_privacy.enable",
  "org.settings.security.members_privacy.disable",
  "org.settings.network",
  "org.settings.network.ip_restriction.enable",
  "org.settings.network.ip_restriction.disable",
  "org.settings.network.auth_enforcement.enable",
  "org.settings.network.auth_enforcement.disable",
  "org.rotate_token",
  "org.token_approval.enabled",
  "org.token_approval.disabled",
  "org.token_approval.authorization_request",
  "org.token_approval.authorization_request.authorized",
  "org.token_approval.authorization_request.denied",
  "org.token_approval.authorization_request.revoked",
  "org.sso_login",
  "org.sso_join",
  // Issue 20: an admin's password sign-in to an organisation that requires SSO
  "org.sso_break_glass",
  // Membership & access control
  "org.invite_user",
  "org.invite.email",
  "org.invite.accept",
  "org.join.from_domain",
  "org.join.automatic",
  "org.add_user",
  "org.remove_user",
  "org.change_role",
  "org.leave",
  "org.update_join_settings",
  // Content & resource management
  "repo.create",
  "repo.delete",
  "repo.move",
  "repo.duplication",
  "repo.update_settings",
  "repo.disable",
  "repo.removeDisable",
  "repo.delete_doi",
  "repo.update_resource_group",
  "repo.delete_lfs_file",
  "collection.create",
  "collection.delete",
  "repo.add_secret",
  "repo.update_secret",
  "repo.remove_secret",
  "repo.add_secrets",
  "repo.remove_secrets",
  "repo.add_variable",
  "repo.update_variable",
  "repo.remove_variable",
  "repo.add_variables",
  "repo.remove_variables",
  "spaces.add_storage",
  "spaces.remove_storage",
  "spaces.update_hardware",
  "spaces.update_sleep_time",
  // Billing & cloud integration
  "billing.update_payment_method",
  "billing.remove_payment_method",
  "billing.create_customer",
  "billing.aws_add",
  "billing.aws_remove",
  "billing.gcp_add",
  "billing.gcp_remove",
  "billing.marketplace_approve",
  "billing.start_subscription",
  "billing.renew_subscription",
  "billing.update_subscription",
  "billing.update_subscription_plan",
  "billing.update_subscription_contract_details",
  "billing.cancel_subscription",
  "billing.un_cancel_subscription",
  // Resource groups
  "resource_group.create",
  "resource_group.delete",
  "resource_group.settings",
  "resource_group.add_users",
  "resource_group.remove_users",
  "resource_group.change_role",
  // Jobs
  "jobs.create",
  "jobs.cancel",
  "scheduled_job.create",
  "scheduled_job.delete",
  "scheduled_job.resume",
  "scheduled_job.suspend",
  "scheduled_job.run",
  // The audit log itself
  "org.audit_log.export",
  "org.audit_log.download",
  // Its lifecycle (issue 16): retention, legal hold, purges and erasures
  "org.audit_log.retention.update",
  "org.audit_log.legal_hold.enable",
  "org.audit_log.legal_hold.disable",
  "org.audit_log.purge",
  "org.audit_log.erase",
  "org.audit_log.stream.create",
  "org.audit_log.stream.update",
  "org.audit_log.stream.delete",
  "org.audit_log.alert.create",
  "org.audit_log.alert.update",
  "org.audit_log.alert.delete",
  "org.audit_log.viewer_link.create",
  "org.audit_log.viewer_link.revoke",
  "org.audit_log.viewer_link.use",
] as const;

/** Events whose data must never hold a secret: strict objects of key names only. */
const secretTypes = [
  "repo.add_secret",
  "repo.update_secret",
  "repo.remove_secret",
  "repo.add_secrets",
  "repo.remove_secrets",
  "org.settings.inference_providers.keys.add",
  "org.settings.inference_providers.keys.remove",
  "org.rotate_token",
  "org.service_account.token.create",
  "org.service_account.token.delete",
  "org.service_account.token.rotate",
  "org.service_account.token.update",
] as const satisfies readonly EventType[];

const actor = { type: "user", id: "u_alice", name: "alice" } as const;
const targets: Record<string, Target | undefined> = {
  "without target": undefined,
  "with target": { type: "space", id: "acme/demo" },
  "with named target": { type: "organization", id: "org_1", name: "acme" },
};

function eventOf(type: string, data: unknown, target?: Target) {
  return {
    id: `evt_${type}`,
    occurredAt: "2026-05-04T10:00:00Z",
    type,
    actor,
    ...(target ? { target } : {}),
    data,
  };
}

function parse(input: unknown): AuditEvent {
  return auditEventSchema.parse(input);
}

function describeOf(type: EventType, data: unknown, target?: Target): string {
  return describeEvent(parse(eventOf(type, data, target)));
}

/** The keys of a definition's data schema that must be present. */
function requiredKeys(type: string): string[] {
  const schema = getEventDefinition(type)?.data as z.ZodObject;
  return Object.entries(schema.shape)
    .filter(([, field]) => !field.safeParse(undefined).success)
    .map(([key]) => key);
}

/** An event with every optional string of the envelope set, around the given data. */
function fullEnvelopeOf(type: string, data: unknown) {
  return {
    id: `evt_${type}`,
    occurredAt: "2026-05-04T10:00:00Z",
    type,
    actor: {
      type: "token",
      id: "tok_ci",
      name: "ci-bot",
      avatarUrl: "https://example.com/avatar.png",
      tokenRole: "write",
      tokenLast4: "9f3a",
    },
    target: { type: "space", id: "acme/demo", name: "acme/demo" },
    context: {
      ip: "203.0.113.7",
      userAgent: "test-agent/1.0",
      oauth: { clientId: "oauth_app", name: "CI app" },
    },
    data,
  };
}

/** The strings `fullEnvelopeOf` puts around the data (type and the enums included). */
const envelopeStringCount = 16;

type LeafPath = (string | number)[];

/** The path of every string in a JSON value, through nested objects and arrays. */
function stringLeaves(value: unknown, path: LeafPath = []): LeafPath[] {
  if (typeof value === "string") return [path];
  if (Array.isArray(value)) return value.flatMap((item, i) => stringLeaves(item, [...path, i]));
  if (typeof value === "object" && value !== null) {
    return Object.entries(value).flatMap(([key, item]) => stringLeaves(item, [...path, key]));
  }
  return [];
}

/** A copy of a JSON value with the value at `path` replaced. */
function withValueAt(value: unknown, path: LeafPath, replacement: unknown): unknown {
  if (path.length === 0) return replacement;
  const [head, ...rest] = path as [string | number, ...LeafPath];
  if (Array.isArray(value)) {
    return value.map((item, i) => (i === head ? withValueAt(item, rest, replacement) : item));
  }
  const record = value as Record<string, unknown>;
  return { ...record, [head]: withValueAt(record[head], rest, replacement) };
}

const definitions = eventDefinitions.map((d) => ({
  type: d.type as EventType,
  example: d.example as Record<string, unknown>,
}));

describe("catalog contents", () => {
  it.each(hubTypes)("has Hub type %s", (type) => {
    expect(eventTypes).toContain(type);
  });

  it.each(productTypes)("has PRODUCT.md type %s", (type) => {
    expect(eventTypes).toContain(type);
  });

  it("reads the whole Hub enum", () => {
    expect(hubTypes).toHaveLength(116);
  });

  it("holds exactly the union of PRODUCT.md §3 and the Hub enum", () => {
    const expected = new Set<string>([...hubTypes, ...productTypes]);
    expect(new Set(eventTypes)).toEqual(expected);
  });

  it("has no type twice", () => {
    const seen = new Set<string>();
    const duplicates = eventTypes.filter((type) => seen.size === seen.add(type).size);
    expect(duplicates).toEqual([]);
  });

  it("keeps literal types", () => {
    const known: EventType = "repo.create";
    // @ts-expect-error — not a catalog type
    const unknown: EventType = "repo.nope";
    expect([known, unknown]).toHaveLength(2);
  });

  it("puts each scope in its category", () => {
    expect(categoryOf("org.change_role")).toBe("membership");
    expect(categoryOf("org.service_account.token.rotate")).toBe("organization");
    expect(categoryOf("oauth.token")).toBe("organization");
    expect(categoryOf("repo.add_trusted_publisher")).toBe("content");
    expect(categoryOf("spaces.set_volumes")).toBe("content");
    expect(categoryOf("scheduled_job.update_labels")).toBe("jobs");
    expect(categoryOf("resource_group.add_users")).toBe("resource_group");
    expect(categoryOf("billing.gcp_add")).toBe("billing");
    for (const type of eventTypes) {
      if (/^(billing|resource_group|jobs|scheduled_job|repo|collection|spaces)\./.test(type)) {
        const scope = type.split(".")[0] as string;
        const category = {
          scheduled_job: "jobs",
          repo: "content",
          collection: "content",
          spaces: "content",
        }[scope];
        expect(categoryOf(type), type).toBe(category ?? scope);
      }
    }
  });

  it("gives every type a title and hides only the audit log's own events", () => {
    for (const definition of eventDefinitions) {
      expect(definition.title.length, definition.type).toBeGreaterThan(0);
      expect(definition.title.length, definition.type).toBeLessThanOrEqual(40);
      expect(definition.hiddenByDefault === true, definition.type).toBe(
        definition.category === "audit_log",
      );
    }
  });

  it("reserves exactly the audit log's own events (org.audit_log.*) for the API", () => {
    const reserved = eventDefinitions.filter((d) => isReservedForApi(d.type)).map((d) => d.type);
    expect(reserved).toEqual(eventTypes.filter((type) => type.startsWith("org.audit_log.")));
    expect(reserved).toEqual([
      "org.audit_log.export",
      "org.audit_log.download",
      "org.audit_log.retention.update",
      "org.audit_log.legal_hold.enable",
      "org.audit_log.legal_hold.disable",
      "org.audit_log.purge",
      "org.audit_log.erase",
      "org.audit_log.stream.create",
      "org.audit_log.stream.update",
      "org.audit_log.stream.delete",
      "org.audit_log.alert.create",
      "org.audit_log.alert.update",
      "org.audit_log.alert.delete",
      "org.audit_log.viewer_link.create",
      "org.audit_log.viewer_link.revoke",
      "org.audit_log.viewer_link.use",
    ]);
    expect(isReservedForApi("repo.create")).toBe(false);
    expect(isReservedForApi("org.audit_log.unknown")).toBe(false);
  });
});

describe.each(definitions)("$type", ({ type, example }) => {
  it.each(Object.entries(targets))("parses its example and describes it (%s)", (_, target) => {
    const result = validateEvent(eventOf(type, example, target), "events[0]");
    expect(result).toMatchObject({ ok: true });
    if (!result.ok) return;
    const description = describeEvent(result.event);
    expect(description).toMatch(/^alice /);
    expect(description).not.toMatch(/undefined|\[object|null|NaN|\s{2}|\s$/);
  });

  it("rejects data of the wrong type under events[0].data", () => {
    const result = validateEvent(eventOf(type, "not an object"), "events[0]");
    expect(result.ok).toBe(false);
    if (result.ok) return;
    expect(result.issues[0]?.path).toBe("events[0].data");
  });

  it("rejects data missing its required fields under events[0].data", () => {
    const required = requiredKeys(type);
    const result = validateEvent(eventOf(type, {}), "events[0]");
    if (required.length === 0) {
      // Without required fields, `data` may be empty or omitted altogether.
      expect(result.ok).toBe(true);
      expect(validateEvent({ type, actor }).ok).toBe(true);
      return;
    }
    expect(result.ok).toBe(false);
    if (result.ok) return;
    for (const issue of result.issues) expect(issue.path).toMatch(/^events\[0\]\.data\./);
    expect(result.issues.map((i) => i.path.slice("events[0].data.".length)).sort()).toEqual(
      [...required].sort(),
    );
  });

  it("bounds every string it accepts, in the envelope and at any depth of its example's data", () => {
    const event = fullEnvelopeOf(type, example);
    expect(validateEvent(event, "events[0]")).toMatchObject({ ok: true });
    const leaves = stringLeaves(event);
    // Every string of the envelope, plus the data's own at any depth.
    expect(leaves).toHaveLength(envelopeStringCount + stringLeaves(example).length);
    const long = "x".repeat(100_000);
    for (const path of leaves) {
      const where = formatPath(path, "events[0]");
      const result = validateEvent(withValueAt(event, path, long), "events[0]");
      expect(result.ok, where).toBe(false);
      if (result.ok) continue;
      expect(
        result.issues.map((issue) => issue.path),
        where,
      ).toContain(where);
    }
  });

  it("refuses NUL in every string it accepts, naming where", () => {
    const event = fullEnvelopeOf(type, example);
    // Its enums and literals refuse NUL already; the free-text strings must too.
    for (const path of stringLeaves(event)) {
      const where = formatPath(path, "events[0]");
      const original = String(
        path.reduce<unknown>(
          (value, key) => (value as Record<string | number, unknown>)[key],
          event,
        ),
      );
      const result = validateEvent(
        withValueAt(event, path, `${original.slice(0, 1)}\u0000`),
        "events[0]",
      );
      expect(result.ok, where).toBe(false);
      if (result.ok) continue;
      expect(
        result.issues.map((issue) => issue.path),
        where,
      ).toContain(where);
    }
  });

  if ((secretTypes as readonly string[]).includes(type)) {
    it.each(["value", "secret", "token"])("rejects a %s field (secret event)", (field) => {
      const result = validateEvent(
        eventOf(type, { ...example, [field]: "hf_s3cr3t" }),
        "events[0]",
      );
      expect(result.ok).toBe(false);
      if (result.ok) return;
      expect(result.issues[0]?.path).toMatch(/^events\[0\]\.data/);
    });
  } else {
    it("keeps unknown data fields (forward compatibility)", () => {
      const event = parse(eventOf(type, { ...example, hubField: { nested: 1 } }));
      expect((event.data as Record<string, unknown>).hubField).toEqual({ nested: 1 });
    });
  }
});

describe("secret events", () => {
  it.each(secretTypes)("%s records key names only", (type) => {
    const example = getEventDefinition(type)?.example as Record<string, unknown>;
    expect(parse(eventOf(type, example)).data).toEqual(example);
    expect(() => parse(eventOf(type, { ...example, value: "hf_s3cr3t" }))).toThrow();
  });

  it("never renders more than the key name", () => {
    expect(
      describeOf(
        "repo.add_secrets",
        { keys: ["A", "B", "C", "D"] },
        { type: "model", id: "acme/bert" },
      ),
    ).toBe("alice added 4 secrets (A, B, C and 1 more) to model acme/bert");
  });

  it("refuses token fields on oauth.token although it keeps other unknown fields", () => {
    expect(() => parse(eventOf("oauth.token", { app: "x", token: "abc" }))).toThrow();
    expect(() => parse(eventOf("oauth.token", { app: "x", accessToken: "abc" }))).toThrow();
  });
});

describe("descriptions", () => {
  it("org.change_role", () => {
    expect(describeOf("org.change_role", { user: "bob", oldRole: "read", newRole: "write" })).toBe(
      "alice changed bob's role from read to write",
    );
  });

  it("repo.create", () => {
    expect(describeOf("repo.create", { repo: { type: "model", name: "acme/bert" } })).toBe(
      "alice created model acme/bert",
    );
    expect(describeOf("repo.create", { repo: { name: "acme/bert" }, private: true })).toBe(
      "alice created private repository acme/bert",
    );
  });

  it("repo.add_secret", () => {
    expect(
      describeOf("repo.add_secret", { key: "HF_TOKEN" }, { type: "space", id: "acme/demo" }),
    ).toBe("alice added secret HF_TOKEN to space acme/demo");
    expect(describeOf("repo.add_secret", { key: "HF_TOKEN" })).toBe(
      "alice added secret HF_TOKEN to a repository",
    );
  });

  it("billing.update_subscription_plan", () => {
    expect(describeOf("billing.update_subscription_plan", { from: "team", to: "enterprise" })).toBe(
      "alice changed the subscription plan from team to enterprise",
    );
    expect(describeOf("billing.update_subscription_plan", { to: "enterprise" })).toBe(
      "alice changed the subscription plan to enterprise",
    );
  });

  it("resource_group.add_users", () => {
    expect(
      describeOf("resource_group.add_users", {
        resourceGroup: "research",
        users: [
          { user: "bob", role: "write" },
          { user: "carol", role: "read" },
        ],
      }),
    ).toBe("alice added bob as write and carol as read to resource group research");
    expect(
      describeOf(
        "resource_group.add_users",
        { users: [{ user: "bob", role: "admin" }] },
        { type: "resource_group", id: "rg_1", name: "research" },
      ),
    ).toBe("alice added bob as admin to resource group research");
  });

  it("a few more", () => {
    expect(
      describeOf("repo.move", { from: "alice/bert", to: "acme/bert", repoType: "model" }),
    ).toBe("alice moved model alice/bert to acme/bert");
    expect(
      describeOf("spaces.update_hardware", { to: "t4-small" }, { type: "space", id: "acme/demo" }),
    ).toBe("alice changed the hardware of space acme/demo to t4-small");
    expect(
      describeOf("spaces.update_sleep_time", { to: 3600 }, { type: "space", id: "acme/demo" }),
    ).toBe("alice set the sleep time of space acme/demo to 1 hour");
    expect(
      describeOf("billing.start_subscription", {
        plan: "team",
        seats: 5,
        interval: "month",
        amount: { amount: 10_000, currency: "USD" },
      }),
    ).toBe("alice started the team subscription for 5 seats at $100.00 per month");
    expect(describeOf("org.delete", {}, { type: "organization", id: "org_1", name: "acme" })).toBe(
      "alice deleted organization acme",
    );
  });
});

describe("data schemas", () => {
  it("are objects: loose, except for secret events which are strict", () => {
    for (const definition of eventDefinitions) {
      const schema = definition.data as unknown as z.ZodObject;
      expect(schema).toBeInstanceOf(z.ZodObject);
      const catchall = schema.def.catchall;
      const strict = (secretTypes as readonly string[]).includes(definition.type);
      expect(catchall, definition.type).toBeInstanceOf(strict ? z.ZodNever : z.ZodUnknown);
    }
  });
});
