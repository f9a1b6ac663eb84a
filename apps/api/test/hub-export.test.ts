import { type AuditEntryPage, eventDefinitions, nonHubEventTypes } from "@auditlog/events";
import { hubExportSchema } from "@auditlog/events/hub-export-schema";
import type { startWorker } from "@auditlog/worker";
import { Ajv2020 } from "ajv/dist/2020.js";
import addFormatsModule from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { orgTarget, recordApiAction } from "../src/audit-log/record-api-action.ts";
import {
  countEntries,
  createMemberWithToken,
  createOrgWithKey,
  getJson,
  post,
  startTestApi,
  startTestWorker,
  waitFor,
  waitForQueueDrained,
} from "./support/test-stack.ts";

const addFormats = addFormatsModule as unknown as (ajv: Ajv2020) => Ajv2020;
const ajv = addFormats(new Ajv2020({ allErrors: true, strict: false }));
const validateHubExport = ajv.compile(hubExportSchema);

const actors = [
  {
    type: "user",
    id: "64b7f0c2a1b2c3d4e5f60718",
    name: "alice",
    avatarUrl: "https://example.test/a.png",
  },
  { type: "token", id: "tok_ci", name: "ci-token", tokenRole: "write", tokenLast4: "abcd" },
  { type: "system", id: "system", name: "Hub" },
  { type: "user", id: "usr_bob", name: "bob" },
] as const;
const contexts = [
  { ip: "81.2.69.160", userAgent: "Mozilla/5.0" },
  {},
  { ip: "2001:4860:4860::8888", oauth: { clientId: "client-1", name: "Notebook app" } },
  { ip: "::ffff:8.8.8.8" },
];

describe("GET /api/organizations/:org/audit-log/export (Hub-compatible)", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let worker: Awaited<ReturnType<typeof startWorker>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;

  beforeAll(async () => {
    stack = await startTestApi();
    worker = await startTestWorker(stack);
    const created = await createOrgWithKey("enterprise", "hub");
    org = created.org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    // Every type of the catalog, with users, tokens and the system as actors, with and without IPs:
    // posted with the key, but for the audit log's own types, which only the API records.
    const posted = eventDefinitions.filter((definition) => !definition.reservedForApi);
    const events = posted.map((definition, index) => ({
      type: definition.type,
      actor: actors[index % actors.length],
      target: { type: "repo", id: `acme/r${index}`, name: `acme/r${index}` },
      data: definition.example,
      context: contexts[index % contexts.length],
    }));
    const response = await post(stack.app, created.apiKey, { events });
    expect(response.status).toBe(202);
    for (const definition of eventDefinitions.filter((d) => d.reservedForApi)) {
      await recordApiAction(stack.services, {
        orgId: org.id,
        actor: { type: "user", id: "usr_bob", name: "bob" },
        client: { ip: "81.2.69.160", userAgent: "Mozilla/5.0" },
        event: { type: definition.type, target: orgTarget(org), data: definition.example },
      });
    }
    await waitFor(
      () => countEntries(org.id),
      (n) => n === eventDefinitions.length,
    );
  });
  afterAll(async () => {
    await worker.stop();
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it("answers a JSON array that validates against the Hub's own schema", async () => {
    const response = await stack.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.status).toBe(200);
    expect(response.headers.get("content-type")).toMatch(/^application\/json/);
    expect(response.headers.get("content-disposition")).toMatch(
      new RegExp(`^attachment; filename="${org.slug}-audit-log-\\d{4}-\\d{2}-\\d{2}\\.json"$`),
    );
    const items = (await response.json()) as Record<string, unknown>[];
    const valid = validateHubExport(items);
    expect(validateHubExport.errors ?? []).toEqual([]);
    expect(valid).toBe(true);

    const hubTypes = eventDefinitions
      .map((d) => d.type as string)
      .filter((t) => !(nonHubEventTypes as readonly string[]).includes(t));
    expect(items).toHaveLength(hubTypes.length);
    expect(new Set(items.map((i) => i.type))).toEqual(new Set(hubTypes));
    // Every category the Hub knows is present, and so are token actors and entries without IP.
    expect(items.some((i) => i.token && (i.token as { last4?: string }).last4 === "abcd")).toBe(
      true,
    );
    expect(items.some((i) => !("ip" in i))).toBe(true);
    expect(items.some((i) => i.ip === "81.2.69.0")).toBe(true);
    expect(items.some((i) => (i.author as { type: string }).type === "system")).toBe(true);
    const createdAt = items.map((i) => i.createdAt as string);
    expect(createdAt).toEqual([...createdAt].sort().reverse());
  });

  it("filters with q as the Hub does, and caps with limit", async () => {
    const response = await stack.app.request(
      `/api/organizations/${org.slug}/audit-log/export?q=${encodeURIComponent("author:ci-token type:repo.*")}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    const items = (await response.json()) as { type: string; author: { user: string } }[];
    expect(items.length).toBeGreaterThan(0);
    expect(items.every((i) => i.type.startsWith("repo.") && i.author.user === "ci-token")).toBe(
      true,
    );
    expect(validateHubExport(items)).toBe(true);

    const capped = await stack.app.request(
      `/api/organizations/${org.slug}/audit-log/export?limit=5`,
      {
        headers: { authorization: `Bearer ${admin}` },
      },
    );
    expect((await capped.json()) as unknown[]).toHaveLength(5);
    const bad = await stack.app.request(
      `/api/organizations/${org.slug}/audit-log/export?q=author:`,
      {
        headers: { authorization: `Bearer ${admin}` },
      },
    );
    expect(bad.status).toBe(400);
  });

  it("records each export as an org.audit_log.export event, hidden from the default view", async () => {
    const exportsBefore = async () =>
      (
        await getJson<AuditEntryPage>(
          stack.app,
          `/v1/orgs/${org.slug}/audit-logs?q=type:org.audit_log.export&limit=200`,
          admin,
        )
      ).body.entries;
    // The earlier tests' exports are recorded too: once stored, they no longer move the count.
    await waitForQueueDrained(stack.services.ingestQueue);
    const before = (await exportsBefore()).length;
    await stack.app.request(`/api/organizations/${org.slug}/audit-log/export?q=type:repo.create`, {
      headers: { authorization: `Bearer ${admin}`, "user-agent": "hub-client/1.0" },
    });
    const after = await waitFor(exportsBefore, (entries) => entries.length === before + 1);
    expect(after[0]).toMatchObject({
      type: "org.audit_log.export",
      category: "audit_log",
      hiddenByDefault: true,
      actor: { type: "token" },
      userAgent: "hub-client/1.0",
      data: { format: "hub", query: "type:repo.create" },
    });
    const defaultView = await getJson<AuditEntryPage>(
      stack.app,
      `/v1/orgs/${org.slug}/audit-logs?limit=200`,
      admin,
    );
    expect(defaultView.body.entries.some((e) => e.type === "org.audit_log.export")).toBe(false);
  });
});
