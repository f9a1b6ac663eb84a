import { findAlertRule, insertAuditEntries, maxAlertRulesPerOrg } from "@auditlog/db";
import { alertRuleListSchema, alertRuleSchema } from "@auditlog/events";
import { scriptedResolver } from "@auditlog/worker/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  startTestApi,
} from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

interface QueuedEvent {
  type: string;
  data: Record<string, unknown>;
}

const slackUrl = "https://hooks.slack.example/services/T000/B000/XXXXsecretpartWXYZ";

describe("alert rules: /v1/orgs/:org/alerts", () => {
  let stack: Stack;

  beforeAll(async () => {
    // hooks.slack.example resolves to a public address; internal.example to a private one.
    const resolver = scriptedResolver({
      "hooks.slack.example": [["93.184.215.14"]],
      "internal.example": [["10.1.2.3"]],
    });
    stack = await startTestApi({}, { lookupHost: resolver.lookup });
  });
  afterAll(async () => {
    await stack?.services.close();
  });

  const alerts = (slug: string, id = "") => `/v1/orgs/${slug}/alerts${id ? `/${id}` : ""}`;

  async function call(
    path: string,
    token: string,
    init: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown } = {},
  ) {
    const response = await stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        authorization: `Bearer ${token}`,
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : null };
  }

  async function newOrg(label: string) {
    const { org } = await createOrgWithKey("team", label);
    const admin = await createMemberWithToken(org.slug, "admin");
    return { org, admin };
  }

  async function recorded(orgId: string): Promise<QueuedEvent[]> {
    const jobs = await stack.services.ingestQueue.getJobs(["wait", "delayed", "active"]);
    return jobs
      .filter((job) => job.data.orgId === orgId)
      .sort((a, b) => Number(a.timestamp) - Number(b.timestamp))
      .flatMap((job) => job.data.events as QueuedEvent[])
      .filter((event) => event.type.startsWith("org.audit_log.alert."));
  }

  it("creates (201), lists, reads, changes and deletes (204) a rule, recording each change without the Slack URL", async () => {
    const { org, admin } = await newOrg("alerts-crud");
    // Three entries already stored: a new rule starts after them.
    await insertAuditEntries(stack.services.db, [
      entryRow(org.id),
      entryRow(org.id),
      entryRow(org.id),
    ]);
    const created = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: {
        name: "Role changes",
        q: "type:org.change_role",
        channels: { console: true, email: true, slackUrl },
        groupWindowSeconds: 60,
      },
    });
    expect(created.status).toBe(201);
    const rule = alertRuleSchema.parse(created.body);
    expect(rule).toMatchObject({
      name: "Role changes",
      q: "type:org.change_role",
      enabled: true,
      channels: { console: true, email: true, webhook: false, slackUrlHint: "WXYZ" },
      groupWindowSeconds: 60,
      lastFiredAt: null,
    });
    expect(rule.id).toMatch(/^alr_[0-9a-f]{24}$/);
    expect(created.text).not.toContain("secretpart");
    const stored = await findAlertRule(stack.services.db, { orgId: org.id, id: rule.id });
    expect(stored?.evaluatedSeq).toBe(3);
    expect(stored?.slackUrlSealed).toMatch(/^v1\./);
    expect(stored?.slackUrlSealed).not.toContain("secretpart");
    expect(stack.services.secrets.open(stored?.slackUrlSealed ?? "")).toBe(slackUrl);

    const listed = await call(alerts(org.slug), admin.token);
    expect(listed.status).toBe(200);
    expect(alertRuleListSchema.parse(listed.body).alerts.map((a) => a.id)).toEqual([rule.id]);
    expect(listed.text).not.toContain("secretpart");
    const read = await call(alerts(org.slug, rule.id), admin.token);
    expect(read.body).toEqual(rule);

    const patched = await call(alerts(org.slug, rule.id), admin.token, {
      method: "PATCH",
      body: { enabled: false, channels: { slackUrl: null }, name: "Roles" },
    });
    expect(patched.status).toBe(200);
    expect(patched.body).toMatchObject({
      name: "Roles",
      enabled: false,
      channels: { console: true, email: true, slackUrlHint: null },
    });
    const deleted = await call(alerts(org.slug, rule.id), admin.token, { method: "DELETE" });
    expect(deleted.status).toBe(204);
    expect((await call(alerts(org.slug, rule.id), admin.token)).status).toBe(404);

    const events = await recorded(org.id);
    expect(events.map((e) => [e.type, e.data])).toEqual([
      [
        "org.audit_log.alert.create",
        { alertId: rule.id, name: "Role changes", q: "type:org.change_role" },
      ],
      [
        "org.audit_log.alert.update",
        {
          alertId: rule.id,
          name: "Roles",
          changed: ["name", "enabled", "channels.slackUrl"],
        },
      ],
      ["org.audit_log.alert.delete", { alertId: rule.id, name: "Roles" }],
    ]);
    expect(JSON.stringify(events)).not.toContain("secretpart");
  });

  it("restarts a rule at the log's size when its query changes or it is enabled again", async () => {
    const { org, admin } = await newOrg("alerts-restart");
    const created = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: { name: "r", q: "type:repo.create" },
    });
    expect(created.status).toBe(201);
    const id = created.body.id as string;
    await insertAuditEntries(stack.services.db, [entryRow(org.id), entryRow(org.id)]);
    expect((await findAlertRule(stack.services.db, { orgId: org.id, id }))?.evaluatedSeq).toBe(0);
    await call(alerts(org.slug, id), admin.token, { method: "PATCH", body: { q: "type:repo.*" } });
    expect((await findAlertRule(stack.services.db, { orgId: org.id, id }))?.evaluatedSeq).toBe(2);
  });

  it.each([
    [{ name: "x", q: "type:" }, "q"],
    [{ name: "x", q: 'text:"unterminated' }, "q"],
    [{ name: "", q: "type:repo.create" }, "name"],
    [{ name: "x" }, "q"],
    [
      { name: "x", q: "type:repo.create", channels: { slackUrl: "http://10.0.0.1/hook" } },
      "channels.slackUrl",
    ],
    [
      { name: "x", q: "type:repo.create", channels: { slackUrl: "https://internal.example/hook" } },
      "channels.slackUrl",
    ],
    [
      { name: "x", q: "type:repo.create", channels: { slackUrl: "ftp://hooks.slack.example/x" } },
      "channels.slackUrl",
    ],
    [
      { name: "x", q: "type:repo.create", channels: { slackUrl: "not a url" } },
      "channels.slackUrl",
    ],
    [{ name: "x", q: "type:repo.create", groupWindowSeconds: -1 }, "groupWindowSeconds"],
    [{ name: "x", q: "type:repo.create", channels: { sms: true } }, "channels"],
  ])("answers 400 naming the field for %j", async (body, field) => {
    const { org, admin } = await newOrg("alerts-bad");
    const created = await call(alerts(org.slug), admin.token, { method: "POST", body });
    expect(created.status).toBe(400);
    expect(created.body.error.details.map((d: { path: string }) => d.path)).toContain(field);
    expect(created.text).not.toContain("10.1.2.3");
    // The same checks apply to a change.
    const ok = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: { name: "fine", q: "type:repo.create" },
    });
    const { name: _name, ...change } = body as Record<string, unknown>;
    if (Object.keys(change).length > 0 && field !== "name") {
      const patched = await call(alerts(org.slug, ok.body.id), admin.token, {
        method: "PATCH",
        body: change,
      });
      expect(patched.status).toBe(400);
    }
  });

  it("names the parser's error for a malformed q as the list API does", async () => {
    const { org, admin } = await newOrg("alerts-q");
    const created = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: { name: "x", q: "type:repo.create created:>=yesterday-ish" },
    });
    const listed = await call(
      `/v1/orgs/${org.slug}/audit-logs?q=${encodeURIComponent("type:repo.create created:>=yesterday-ish")}`,
      admin.token,
    );
    expect(created.status).toBe(400);
    expect(listed.status).toBe(400);
    expect(created.body.error.details).toEqual(listed.body.error.details);
  });

  it("answers 403 to a member who is not an admin, 404 for another organisation's rule", async () => {
    const { org, admin } = await newOrg("alerts-auth");
    const reader = await createMemberWithToken(org.slug, "read");
    const writer = await createMemberWithToken(org.slug, "write");
    const rule = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: { name: "mine", q: "type:repo.create" },
    });
    for (const member of [reader, writer]) {
      expect((await call(alerts(org.slug), member.token)).status).toBe(403);
      expect(
        (
          await call(alerts(org.slug), member.token, {
            method: "POST",
            body: { name: "x", q: "type:repo.create" },
          })
        ).status,
      ).toBe(403);
      expect(
        (await call(alerts(org.slug, rule.body.id), member.token, { method: "DELETE" })).status,
      ).toBe(403);
    }
    const other = await newOrg("alerts-other");
    for (const method of ["GET", "PATCH", "DELETE"] as const) {
      const response = await call(alerts(other.org.slug, rule.body.id), other.admin.token, {
        method,
        ...(method === "PATCH" ? { body: { name: "stolen" } } : {}),
      });
      expect(response.status).toBe(404);
    }
    expect((await call(alerts(org.slug, rule.body.id), admin.token)).body.name).toBe("mine");
  });

  it(`refuses a rule beyond ${maxAlertRulesPerOrg} per organisation (409)`, async () => {
    const { org, admin } = await newOrg("alerts-limit");
    for (let i = 0; i < maxAlertRulesPerOrg; i++) {
      const created = await call(alerts(org.slug), admin.token, {
        method: "POST",
        body: { name: `r${i}`, q: "type:repo.create" },
      });
      expect(created.status).toBe(201);
    }
    const refused = await call(alerts(org.slug), admin.token, {
      method: "POST",
      body: { name: "one more", q: "type:repo.create" },
    });
    expect(refused.status).toBe(409);
    expect(refused.body.error.message).toContain(String(maxAlertRulesPerOrg));
  });
});
