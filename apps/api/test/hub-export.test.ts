import { brotliDecompressSync, gunzipSync } from "node:zlib";
import {
  type AuditEntryRow,
  type Database,
  insertAuditEntries,
  streamEntries,
  toAuditEntry,
} from "@auditlog/db";
import { auditEntryRow } from "@auditlog/db/testing";
import {
  type AuditEntryPage,
  eventDefinitions,
  nonHubEventTypes,
  parseQueryOrThrow,
} from "@auditlog/events";
import { hubExportSchema } from "@auditlog/events/hub-export-schema";
import { toHubExportItem } from "@auditlog/exports";
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

/**
 * The answer as the API wrote it before PostgreSQL rendered it (issue 21): keyset pages of rows,
 * each mapped by `toHubExportItem` and stringified. PostgreSQL's bytes must be these bytes.
 */
async function referenceExport(db: Database, orgId: string, q = ""): Promise<string> {
  const parsed = parseQueryOrThrow(q);
  const query = {
    ...parsed,
    excludeTypes: [...new Set([...parsed.excludeTypes, ...nonHubEventTypes])],
  };
  const items: string[] = [];
  for await (const rows of streamEntries(db, { orgId, query, max: 100_000 })) {
    for (const row of rows) items.push(`\n${JSON.stringify(toHubExportItem(toAuditEntry(row)))}`);
  }
  return `[${items.join(",")}\n]\n`;
}

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

  it("answers byte for byte what the Hub mapping writes, and the same bytes gzipped or brotli'd", async () => {
    const expected = await referenceExport(stack.services.db, org.id);
    const response = await stack.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    expect(response.headers.get("content-encoding")).toBeNull();
    const body = await response.text();
    expect(body.split("\n").length).toBeGreaterThan(100);
    expect(body).toBe(expected);

    const gzipped = await stack.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
      headers: { authorization: `Bearer ${admin}`, "accept-encoding": "gzip" },
    });
    expect(gzipped.headers.get("content-encoding")).toBe("gzip");
    const wire = Buffer.from(await gzipped.arrayBuffer());
    expect(wire.length).toBeLessThan(Buffer.byteLength(expected) / 3);
    expect(gunzipSync(wire).toString("utf8")).toBe(expected);
    const brotli = await stack.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
      headers: { authorization: `Bearer ${admin}`, "accept-encoding": "br, gzip" },
    });
    expect(brotli.headers.get("content-encoding")).toBe("br");
    const brotliWire = Buffer.from(await brotli.arrayBuffer());
    expect(brotliDecompressSync(brotliWire).toString("utf8")).toBe(expected);

    const filtered = await stack.app.request(
      `/api/organizations/${org.slug}/audit-log/export?q=${encodeURIComponent("-type:repo.*")}`,
      { headers: { authorization: `Bearer ${admin}` } },
    );
    expect(await filtered.text()).toBe(
      await referenceExport(stack.services.db, org.id, "-type:repo.*"),
    );
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

describe("the Hub export's bytes, rendered by PostgreSQL, for awkward entries", () => {
  let stack: Awaited<ReturnType<typeof startTestApi>>;
  let org: Awaited<ReturnType<typeof createOrgWithKey>>["org"];
  let admin: string;
  const minute = (n: number) => new Date(Date.UTC(2026, 4, 1, 12, n, 0, 123));
  const row = (n: number, overrides: Partial<AuditEntryRow>) =>
    auditEntryRow(org.id, { occurredAt: minute(n), receivedAt: minute(n), ...overrides });
  const exportText = async (q = "") =>
    (
      await stack.app.request(
        `/api/organizations/${org.slug}/audit-log/export${q ? `?q=${encodeURIComponent(q)}` : ""}`,
        { headers: { authorization: `Bearer ${admin}` } },
      )
    ).text();

  beforeAll(async () => {
    stack = await startTestApi();
    org = (await createOrgWithKey("enterprise", "hub-bytes")).org;
    admin = (await createMemberWithToken(org.slug, "admin")).token;
    await insertAuditEntries(stack.services.db, [
      // Ids of no ObjectId form (digested), a 24-hex actor id, an empty avatar URL (kept: `??`).
      row(1, { id: "custom-id-1", actorId: "64b7f0c2a1b2c3d4e5f60718", actorAvatarUrl: "" }),
      // A 24-hex id as it is; a token whose role the Hub does not know and whose last4 is empty;
      // a location of a region alone; an empty user agent (left out).
      row(2, {
        id: "0123456789abcdef01234567",
        actorType: "token",
        actorId: "tok_1",
        actorTokenRole: "admin",
        actorTokenLast4: "",
        countryCode: "",
        region: "Bavaria",
        userAgent: "",
      }),
      // Upper-case prefix: not one of our ids (digested); the system as actor.
      row(3, {
        id: "EVT_0123456789abcdef01234567",
        actorType: "system",
        actorId: "system",
        actorName: "Hub",
      }),
      // Escapes and non-ASCII everywhere; an OAuth app without a name; IPv6.
      row(4, {
        description: 'a\u0001\t\n"quoted" \\ é 😀 \u2028 </script>',
        actorName: 'dana "the admin"',
        actorAvatarUrl: "https://example.test/a.png?x=1&y=2",
        ip: "2001:db8::",
        countryCode: "BR",
        city: "São Paulo",
        userAgent: "Mozilla/5.0 (X11; Linux x86_64)",
        oauthClientId: "client-1",
        data: {
          text: 'a": b, c', // separators inside strings stay
          "key, with: separators": { 'q"': '\\", ": ' },
          nested: { list: [1, 2.5, -3, 0.1, true, false, null, "", {}, []] },
          unicode: "é😀\u2028\u0001\u001f",
          big: 12345678901234,
          empty: {},
          long: "x".repeat(3000),
        },
      }),
      // Ids at the edges of the ObjectId forms: the shortest prefix, none, upper-case hex, 25 hex.
      row(7, { id: "a_0123456789abcdef01234567", actorId: "_0123456789abcdef01234567" }),
      row(8, { id: "evt_0123456789ABCDEF01234567", actorId: "0123456789abcdef012345678" }),
      row(9, { id: "evt-0123456789abcdef01234567", actorId: "0123456789abcdef0123456" }),
      // A token the Hub knows everything of; an OAuth app with a name; an IPv4 and a full place.
      row(5, {
        actorType: "token",
        actorId: "tok_2",
        actorName: "ci",
        actorTokenRole: "fineGrained",
        actorTokenLast4: "9f3a",
        ip: "81.2.69.0",
        countryCode: "GB",
        region: "England",
        city: "London",
        oauthClientId: "client-2",
        oauthName: "Notebook app",
        data: { list: [{ a: 1, b: [2, 3] }, "x, y: z"] },
      }),
    ]);
  });
  afterAll(async () => {
    await stack.services.ingestQueue.obliterate({ force: true });
    await stack.services.close();
  });

  it("writes exactly the reference mapping's bytes", async () => {
    const expected = await referenceExport(stack.services.db, org.id);
    expect(expected.split("\n")).toHaveLength(8 + 3);
    expect(await exportText()).toBe(expected);
    // With a filter that leaves nothing: the empty array, as before.
    expect(await exportText("author:nobody")).toBe("[\n]\n");
    expect(await referenceExport(stack.services.db, org.id, "author:nobody")).toBe("[\n]\n");
  });

  it("writes the same JSON value where only jsonb's own text differs (integer-like keys, exponents)", async () => {
    await insertAuditEntries(stack.services.db, [
      row(6, { actorName: "numbers", data: { b: 1, "10": 2, "2": 3, huge: 1e21, tiny: 1e-7 } }),
    ]);
    const [line] = (await exportText("author:numbers")).split("\n").slice(1, -2);
    const [reference] = (await referenceExport(stack.services.db, org.id, "author:numbers"))
      .split("\n")
      .slice(1, -2);
    expect(JSON.parse(line ?? "")).toEqual(JSON.parse(reference ?? ""));
  });

  it("gives the query slot back when the client stops reading", async () => {
    const response = await stack.app.request(`/api/organizations/${org.slug}/audit-log/export`, {
      headers: { authorization: `Bearer ${admin}` },
    });
    const reader = (response.body as ReadableStream<Uint8Array>).getReader();
    expect((await reader.read()).done).toBe(false);
    await reader.cancel();
    await waitFor(
      async () => stack.services.querySlots.running(org.id),
      (n) => n === 0,
    );
    // The connection the COPY held is not lent out mid-COPY: the next export is whole.
    expect(await exportText("-author:numbers")).toBe(
      await referenceExport(stack.services.db, org.id, "-author:numbers"),
    );
  });
});
