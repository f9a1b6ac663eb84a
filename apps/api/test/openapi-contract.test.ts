import { upsertUserMembership } from "@auditlog/db";
import { uniqueSlug } from "@auditlog/db/testing";
import { SplunkHecReceiver } from "@auditlog/streams/testing";
import { testCheckpointSigner } from "@auditlog/tlog/testing";
import { advanceLogTree } from "@auditlog/worker";
import { scriptedResolver } from "@auditlog/worker/testing";
import { Ajv2020, type ValidateFunction } from "ajv/dist/2020.js";
import addFormats from "ajv-formats";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashPassword } from "../src/auth/passwords.ts";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  sampleEvent,
  startTestApi,
  startTestWorker,
  waitFor,
} from "./support/test-stack.ts";

/**
 * The contract: every documented operation is called against the API (real PostgreSQL, Redis
 * and worker) with valid and with invalid input, and each answer's status must be one the
 * document lists for that operation and its body must validate against the documented schema
 * (ajv, JSON Schema draft 2020-12 as OpenAPI 3.1 uses it, with formats).
 */
type Stack = Awaited<ReturnType<typeof startTestApi>>;
type Operation = { responses: Record<string, Response | { $ref: string }> };
type Response = { content?: Record<string, { schema: unknown }> };
type Document = {
  paths: Record<string, Record<string, Operation>>;
  components: { schemas: Record<string, unknown>; responses: Record<string, Response> };
};

const componentsId = "https://auditlog.test/openapi/components";
const metricsToken = "contract-metrics-token-0123456789abcdef";
const password = "contract test password 1234";

interface Case {
  /** "valid": input the operation accepts (its answer may still be a documented 4xx: a
   * missing checkpoint); "invalid": input it must refuse with a 4xx. */
  kind: "valid" | "invalid";
  method: string;
  path: string;
  auth?: "token" | "session" | "apiKey" | "metrics" | "none";
  body?: unknown;
  rawBody?: string;
  headers?: Record<string, string>;
  /** The status this case must get (checked besides the document's list). */
  status: number;
}

describe("the API answers as its OpenAPI document says", () => {
  let stack: Stack;
  const hecToken = "hec-token-contract-0a1b2c3d4e5f";
  const receiver = new SplunkHecReceiver(hecToken);
  let worker: Awaited<ReturnType<typeof startTestWorker>>;
  let document: Document;
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  addFormats(ajv);
  const validators = new Map<string, ValidateFunction>();

  beforeAll(async () => {
    await receiver.start();
    stack = await startTestApi(
      // The stream test message goes to a Splunk HEC receiver on 127.0.0.1.
      // Single sign-on's issuer is a closed port on 127.0.0.1: sign-in is refused at once.
      {
        METRICS_TOKEN: metricsToken,
        WEBHOOK_ALLOW_LOCAL_URLS: "true",
        SSO_ALLOW_LOCAL_ISSUERS: "true",
      },
      {
        lookupHost: scriptedResolver({
          "splunk.example.com": [["93.184.215.14"]],
          "hooks.slack.example": [["93.184.215.14"]],
          "hooks.example.com": [["93.184.215.14"]],
        }).lookup,
      },
    );
    worker = await startTestWorker(stack);
    const text = await (await stack.app.request("/openapi.json")).text();
    // Component references, made absolute so each schema compiles on its own.
    document = JSON.parse(
      text.replaceAll('"#/components/schemas/', `"${componentsId}#/$defs/`),
    ) as Document;
    ajv.addSchema({ $id: componentsId, $defs: document.components.schemas });
  });
  afterAll(async () => {
    await worker?.stop();
    await stack?.services.close();
    await receiver.stop();
  });

  /** The documented operation of a concrete request path. */
  function findOperation(method: string, path: string): { template: string; operation: Operation } {
    const pathname = path.split("?")[0] as string;
    for (const [template, operations] of Object.entries(document.paths)) {
      const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, "[^/]+")}$`);
      const operation = operations[method.toLowerCase()];
      if (operation && pattern.test(pathname)) return { template, operation };
    }
    throw new Error(`${method} ${pathname} is not documented`);
  }

  function responseOf(operation: Operation, status: number): Response | undefined {
    const response = operation.responses[String(status)];
    if (response && "$ref" in response) {
      return document.components.responses[response.$ref.split("/").pop() as string];
    }
    return response;
  }

  function validatorFor(key: string, schema: unknown): ValidateFunction {
    let validate = validators.get(key);
    if (!validate) {
      validate = ajv.compile(schema as object);
      validators.set(key, validate);
    }
    return validate;
  }

  it("for every documented operation, with valid and with invalid input", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "contract");
    const admin = await createMemberWithToken(org.slug, "admin");
    const member = await createMemberWithToken(org.slug, "write");
    const email = `${uniqueSlug("signin")}@example.test`;
    await upsertUserMembership(stack.services.db, {
      email,
      name: "Sign In",
      passwordHash: await hashPassword(password),
      orgSlug: org.slug,
      role: "admin",
    });
    await insertRows([entryRow(org.id), entryRow(org.id), entryRow(org.id)]);
    const client = { ip: "198.51.100.77" };
    const o = `/v1/orgs/${org.slug}`;

    let session = { cookie: "", csrf: "" };
    const counts = {
      operations: new Set<string>(),
      valid: new Set<string>(),
      invalid: new Set<string>(),
      cases: 0,
    };

    async function call(c: Case) {
      const headers: Record<string, string> = { "x-forwarded-for": client.ip };
      if (c.auth === "token" || c.auth === undefined)
        headers.authorization = `Bearer ${admin.token}`;
      if (c.auth === "apiKey") headers.authorization = `Bearer ${apiKey}`;
      if (c.auth === "metrics") headers.authorization = `Bearer ${metricsToken}`;
      if (c.auth === "session") {
        headers.cookie = session.cookie;
        headers["x-csrf-token"] = session.csrf;
      }
      // A case's own headers win (a wrong CSRF token, another member's token).
      Object.assign(headers, c.headers);
      let body: string | undefined = c.rawBody;
      if (c.body !== undefined) {
        body = JSON.stringify(c.body);
        headers["content-type"] ??= "application/json";
      }
      const response = await stack.app.request(c.path, {
        method: c.method,
        headers,
        ...(body === undefined ? {} : { body }),
      });
      const { template, operation } = findOperation(c.method, c.path);
      const key = `${c.method} ${template}`;
      const label = `${c.kind} ${c.method} ${c.path} → ${response.status}`;
      const text = await response.text();
      expect(response.status, `${label}: ${text.slice(0, 300)}`).toBe(c.status);
      const documented = responseOf(operation, response.status);
      expect(documented, `${label} is not a documented status of ${key}`).toBeDefined();
      const mediaTypes = Object.keys(documented?.content ?? {});
      if (mediaTypes.length === 0) {
        expect(text, `${label} documents no body`).toBe("");
      } else {
        const contentType =
          (response.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
        expect(mediaTypes, `${label}: content type ${contentType}`).toContain(contentType);
        if (contentType === "application/json") {
          const validate = validatorFor(
            `${key} ${response.status}`,
            documented?.content?.[contentType]?.schema,
          );
          const parsed = JSON.parse(text);
          const ok = validate(parsed);
          expect(ok ? [] : validate.errors, `${label}: ${text.slice(0, 300)}`).toEqual([]);
        }
      }
      counts.operations.add(key);
      counts[c.kind].add(key);
      counts.cases += 1;
      return { status: response.status, text, response };
    }
    const json = async (c: Case) => JSON.parse((await call(c)).text);

    // Sessions first: the cookie and CSRF token the session cases use.
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/auth/login",
      auth: "none",
      body: { email: "nope" },
      status: 400,
    });
    const login = await call({
      kind: "valid",
      method: "POST",
      path: "/v1/auth/login",
      auth: "none",
      body: { email, password },
      status: 200,
    });
    session = {
      cookie: (login.response.headers.get("set-cookie") ?? "").split(";")[0] as string,
      csrf: (JSON.parse(login.text) as { csrfToken: string }).csrfToken,
    };

    // Operations.
    await call({ kind: "valid", method: "GET", path: "/healthz", auth: "none", status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/healthz?x=%00",
      auth: "none",
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: "/readyz", auth: "none", status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/readyz?x=%00",
      auth: "none",
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: "/metrics", auth: "metrics", status: 200 });
    await call({ kind: "invalid", method: "GET", path: "/metrics", auth: "none", status: 401 });

    // Ingestion.
    const ingested = await json({
      kind: "valid",
      method: "POST",
      path: "/v1/events",
      auth: "apiKey",
      body: { events: [sampleEvent(1), sampleEvent(2)] },
      status: 202,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/events",
      auth: "apiKey",
      body: { type: "repo.create" },
      status: 400,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/events",
      auth: "apiKey",
      rawBody: "{}",
      headers: { "content-type": "text/plain" },
      status: 415,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/events",
      auth: "none",
      body: sampleEvent(3),
      status: 401,
    });

    // Me and tokens.
    await call({ kind: "valid", method: "GET", path: "/v1/me", status: 200 });
    await call({ kind: "invalid", method: "GET", path: "/v1/me", auth: "none", status: 401 });
    const token = await json({
      kind: "valid",
      method: "POST",
      path: "/v1/me/tokens",
      auth: "session",
      body: { name: "contract" },
      status: 201,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/me/tokens",
      auth: "session",
      body: { name: "" },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: "/v1/me/tokens", status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/me/tokens",
      auth: "none",
      status: 401,
    });
    await call({
      kind: "valid",
      method: "DELETE",
      path: `/v1/me/tokens/${token.id}`,
      auth: "session",
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "DELETE",
      path: "/v1/me/tokens/pat_missing",
      status: 404,
    });

    // Notifications.
    await call({
      kind: "valid",
      method: "GET",
      path: "/v1/notifications?unread=true",
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/notifications?unread=maybe",
      status: 400,
    });
    await call({ kind: "valid", method: "POST", path: "/v1/notifications/read-all", status: 200 });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/notifications/read-all",
      auth: "session",
      headers: { "x-csrf-token": "wrong" },
      status: 403,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/notifications/ntf_missing/read",
      status: 404,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/notifications/stream",
      auth: "none",
      status: 401,
    });
    {
      // The live stream stays open: its status and media type are checked against the
      // document, then the stream is closed.
      const live = await stack.app.request("/v1/notifications/stream", {
        headers: { authorization: `Bearer ${admin.token}`, "x-forwarded-for": client.ip },
      });
      const { template, operation } = findOperation("GET", "/v1/notifications/stream");
      expect(live.status).toBe(200);
      const contentType = (live.headers.get("content-type") ?? "").split(";")[0]?.trim() ?? "";
      expect(Object.keys(responseOf(operation, 200)?.content ?? {})).toContain(contentType);
      await live.body?.cancel();
      counts.operations.add(`GET ${template}`);
      counts.valid.add(`GET ${template}`);
      counts.cases += 1;
    }

    // Webhook.
    await call({
      kind: "valid",
      method: "PUT",
      path: `${o}/webhook`,
      body: { url: "https://hooks.example.com/audit" },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PUT",
      path: `${o}/webhook`,
      body: { url: "ftp://x" },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/webhook`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/orgs/no-such-org/webhook",
      status: 404,
    });
    await call({ kind: "valid", method: "DELETE", path: `${o}/webhook`, status: 204 });
    await call({ kind: "invalid", method: "DELETE", path: `${o}/webhook`, status: 404 });

    // API keys.
    const key = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/keys`,
      body: { name: "contract" },
      status: 201,
    });
    await call({ kind: "invalid", method: "POST", path: `${o}/keys`, body: {}, status: 400 });
    await call({ kind: "valid", method: "GET", path: `${o}/keys`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/keys`,
      headers: { authorization: `Bearer ${member.token}` },
      auth: "none",
      status: 403,
    });
    await call({ kind: "valid", method: "DELETE", path: `${o}/keys/${key.id}`, status: 200 });
    await call({ kind: "invalid", method: "DELETE", path: `${o}/keys/key_missing`, status: 404 });

    // Checkpoint keys (public).
    await call({
      kind: "valid",
      method: "GET",
      path: "/v1/checkpoint-keys",
      auth: "none",
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/checkpoint-keys?x=%00",
      auth: "none",
      status: 400,
    });

    // The log: wait for the worker to store the ingested events.
    await waitFor(
      async () =>
        (
          await json({
            kind: "valid",
            method: "GET",
            path: `${o}/audit-logs/feed?after=0`,
            status: 200,
          })
        ).entries.length,
      (n: number) => n >= 3 + ingested.ids.length,
    );
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/feed?after=-1`,
      status: 400,
    });
    const page = await json({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs?q=type:repo.create&limit=2`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs?q=colour:red`,
      status: 400,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs/histogram?interval=hour&tz=Europe/Paris`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/histogram?interval=fortnight`,
      status: 400,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs/facets?limit=5`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/facets?limit=0`,
      status: 400,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs/suggestions?key=author&prefix=u`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/suggestions?key=colour`,
      status: 400,
    });
    const entryId = page.entries[0].id as string;
    await call({ kind: "valid", method: "GET", path: `${o}/audit-logs/${entryId}`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/evt_missing`,
      status: 404,
    });
    const hub = await call({
      kind: "valid",
      method: "GET",
      path: `/api/organizations/${org.slug}/audit-log/export?q=type:repo.create`,
      status: 200,
    });
    expect(Array.isArray(JSON.parse(hub.text))).toBe(true);
    await call({
      kind: "invalid",
      method: "GET",
      path: `/api/organizations/${org.slug}/audit-log/export?limit=0`,
      status: 400,
    });

    // Transparency: no signer runs here, so the log has no checkpoint yet (a documented 404).
    await call({ kind: "valid", method: "GET", path: `${o}/audit-logs/checkpoint`, status: 404 });
    // Then checkpoints at every size so far (as the signer would make them, one leaf at a time),
    // so the checkpoint, consistency and proof answers are checked with their 200 bodies.
    const signing = { signer: testCheckpointSigner, logOrigin: "auditlog.localhost" };
    for (let steps = 0; steps < 500; steps++) {
      const advanced = await advanceLogTree(stack.services.db, org.id, signing, 1);
      if (advanced.error) throw advanced.error;
      if (advanced.treeSize === advanced.fromSize) break;
    }
    await call({ kind: "valid", method: "GET", path: `${o}/audit-logs/checkpoint`, status: 200 });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs/consistency?from=1&to=2`,
      status: 200,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/audit-logs/${entryId}/proof`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/checkpoint?treeSize=x`,
      status: 400,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/consistency?from=3&to=2`,
      status: 400,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/${entryId}/proof?treeSize=0`,
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/audit-logs/verify`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/audit-logs/verify`,
      auth: "none",
      status: 401,
    });

    // Exports: requested, built by the worker, downloaded.
    const requested = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/exports`,
      body: { format: "ndjson", q: "type:repo.create" },
      status: 202,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/exports`,
      body: { format: "xml" },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/exports?limit=10`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/exports?limit=1000`, status: 400 });
    await waitFor(
      async () =>
        (
          await json({
            kind: "valid",
            method: "GET",
            path: `${o}/exports/${requested.id}`,
            status: 200,
          })
        ).status,
      (status: string) => status === "ready",
    );
    await call({ kind: "invalid", method: "GET", path: `${o}/exports/exp_missing`, status: 404 });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/exports/${requested.id}/download`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/exports/exp_missing/download`,
      status: 404,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: `${o}/exports/${requested.id}/manifest`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/exports/exp_missing/manifest`,
      status: 404,
    });
    const link = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/exports/${requested.id}/link`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/exports/exp_missing/link`,
      status: 404,
    });
    const signed = new URL(link.url as string);
    await call({
      kind: "valid",
      method: "GET",
      path: `${signed.pathname}${signed.search}`,
      auth: "none",
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${signed.pathname}?expires=1&by=x&signature=y`,
      auth: "none",
      status: 403,
    });

    // The finished export notified its requester: mark that notification read.
    const notified = await waitFor(
      async () =>
        (await json({ kind: "valid", method: "GET", path: "/v1/notifications", status: 200 }))
          .notifications as { id: string }[],
      (list) => list.length > 0,
    );
    await call({
      kind: "valid",
      method: "POST",
      path: `/v1/notifications/${notified[0]?.id}/read`,
      status: 200,
    });

    // Saved views.
    const view = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/views`,
      body: { name: "Contract", filters: { q: "type:repo.create", types: [], range: "7d" } },
      status: 201,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/views`,
      body: { name: "Bad", filters: { q: "colour:red", types: [], range: "7d" } },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/views`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/views`, auth: "none", status: 401 });
    await call({ kind: "valid", method: "DELETE", path: `${o}/views/${view.id}`, status: 204 });
    await call({ kind: "invalid", method: "DELETE", path: `${o}/views/${view.id}`, status: 404 });

    // Viewer links (issue 20): an admin's links, the framing origins, and the holder's reads.
    const viewerLink = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/viewer-links`,
      body: {
        name: "Contract",
        q: "target:acme/bert",
        expiresAt: new Date(Date.now() + 86_400_000).toISOString(),
      },
      status: 201,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/viewer-links`,
      body: { name: "Everything", q: "", expiresAt: new Date(Date.now() + 60_000).toISOString() },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/viewer-links`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/viewer-links`,
      auth: "none",
      status: 401,
    });
    await call({
      kind: "valid",
      method: "PUT",
      path: `${o}/viewer-embedding`,
      body: { frameOrigins: ["https://app.example.com"] },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PUT",
      path: `${o}/viewer-embedding`,
      body: { frameOrigins: ["app.example.com"] },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/viewer-embedding`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/viewer-embedding`,
      auth: "none",
      status: 401,
    });
    // Single sign-on: settings, then the browser's round trip (refused: the provider is away).
    await call({
      kind: "invalid",
      method: "PUT",
      path: `${o}/sso`,
      body: { issuer: "x" },
      status: 400,
    });
    await call({
      kind: "valid",
      method: "PUT",
      path: `${o}/sso`,
      body: {
        issuer: "http://127.0.0.1:9",
        clientId: "auditlog",
        clientSecret: "contract-client-secret-0123456789",
        allowedDomains: ["acme.test"],
        roleClaim: "groups",
        roleRules: [{ value: "admins", role: "admin" }],
        defaultRole: null,
        requireSso: false,
      },
      status: 200,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/sso`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/sso`, auth: "none", status: 401 });
    await call({
      kind: "valid",
      method: "GET",
      path: `/v1/auth/sso/start?org=${org.slug}`,
      auth: "none",
      status: 303,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/auth/sso/start",
      auth: "none",
      status: 303,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: "/v1/auth/sso/callback?code=abc&state=def",
      auth: "none",
      status: 303,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/auth/sso/callback",
      auth: "none",
      status: 303,
    });
    await call({ kind: "invalid", method: "DELETE", path: `${o}/sso`, auth: "none", status: 401 });
    await call({ kind: "valid", method: "DELETE", path: `${o}/sso`, status: 200 });
    const holder = { authorization: `Bearer ${viewerLink.token}` };
    await call({ kind: "valid", method: "GET", path: "/v1/viewer", headers: holder, status: 200 });
    await call({ kind: "invalid", method: "GET", path: "/v1/viewer", status: 401 });
    await call({
      kind: "valid",
      method: "GET",
      path: "/v1/viewer/entries?q=-author%3Abob&limit=2",
      headers: holder,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/viewer/entries?q=colour%3Ared",
      headers: holder,
      status: 400,
    });
    await call({
      kind: "valid",
      method: "GET",
      path: "/v1/viewer/export?q=acme",
      headers: holder,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/viewer/export?limit=1",
      auth: "none",
      status: 401,
    });
    await call({
      kind: "valid",
      method: "DELETE",
      path: `${o}/viewer-links/${viewerLink.id}`,
      status: 204,
    });
    await call({
      kind: "invalid",
      method: "DELETE",
      path: `${o}/viewer-links/vwl_000000000000000000000000`,
      status: 404,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: "/v1/viewer/entries",
      headers: holder,
      status: 401,
    });

    // Retention.
    const retention = await json({
      kind: "valid",
      method: "GET",
      path: `${o}/retention`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/retention`,
      auth: "none",
      status: 401,
    });
    await call({
      kind: "valid",
      method: "PUT",
      path: `${o}/retention`,
      body: { days: retention.days },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PUT",
      path: `${o}/retention`,
      body: { days: -1 },
      status: 400,
    });

    // Erasures.
    await call({
      kind: "valid",
      method: "POST",
      path: `${o}/erasures`,
      body: { actorId: "usr_1" },
      status: 201,
    });
    await call({ kind: "invalid", method: "POST", path: `${o}/erasures`, body: {}, status: 400 });
    await call({ kind: "valid", method: "GET", path: `${o}/erasures`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/erasures`,
      auth: "none",
      status: 401,
    });

    // Dead letters.
    await call({ kind: "valid", method: "GET", path: `${o}/dead-letters?limit=5`, status: 200 });
    await call({
      kind: "invalid",
      method: "GET",
      path: `${o}/dead-letters?before=nope`,
      status: 400,
    });

    // Streams.
    const splunk = {
      type: "splunk",
      url: "https://splunk.example.com:8088",
      token: "hec-token-5f1e2d3c4b5a69788796",
      index: "audit",
    };
    const stream = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/streams`,
      body: { name: "SOC", destination: splunk, q: "type:repo.*" },
      status: 201,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/streams`,
      body: { name: "SOC", destination: { type: "syslog" } },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/streams`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/streams`, auth: "none", status: 401 });
    await call({ kind: "valid", method: "GET", path: `${o}/streams/${stream.id}`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/streams/str_missing`, status: 404 });
    await call({
      kind: "valid",
      method: "PATCH",
      path: `${o}/streams/${stream.id}`,
      body: { paused: true },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PATCH",
      path: `${o}/streams/${stream.id}`,
      body: { colour: "red" },
      status: 400,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/streams/str_missing/test`,
      status: 404,
    });
    const local = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/streams`,
      body: {
        name: "Local HEC",
        destination: { type: "splunk", url: receiver.origin, token: hecToken },
      },
      status: 201,
    });
    const tested = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/streams/${local.id}/test`,
      status: 200,
    });
    expect(tested.ok).toBe(true);
    await call({ kind: "valid", method: "DELETE", path: `${o}/streams/${local.id}`, status: 204 });
    await call({ kind: "valid", method: "DELETE", path: `${o}/streams/${stream.id}`, status: 204 });
    await call({
      kind: "invalid",
      method: "DELETE",
      path: `${o}/streams/${stream.id}`,
      status: 404,
    });

    // Alerts.
    const rule = await json({
      kind: "valid",
      method: "POST",
      path: `${o}/alerts`,
      body: { name: "Roles", q: "type:org.change_role", channels: { console: true, email: false } },
      status: 201,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: `${o}/alerts`,
      body: { name: "" },
      status: 400,
    });
    await call({ kind: "valid", method: "GET", path: `${o}/alerts`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/alerts`, auth: "none", status: 401 });
    await call({ kind: "valid", method: "GET", path: `${o}/alerts/${rule.id}`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/alerts/alr_missing`, status: 404 });
    await call({
      kind: "valid",
      method: "PATCH",
      path: `${o}/alerts/${rule.id}`,
      body: { enabled: false },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PATCH",
      path: `${o}/alerts/${rule.id}`,
      body: { enabled: "no" },
      status: 400,
    });
    await call({ kind: "valid", method: "DELETE", path: `${o}/alerts/${rule.id}`, status: 204 });
    await call({ kind: "invalid", method: "DELETE", path: `${o}/alerts/${rule.id}`, status: 404 });

    // Members: the write member made an auditor (a role that does not exist is a 400), then
    // removed; the last admin cannot be removed of them all.
    await call({ kind: "valid", method: "GET", path: `${o}/members`, status: 200 });
    await call({ kind: "invalid", method: "GET", path: `${o}/members`, auth: "none", status: 401 });
    await call({
      kind: "valid",
      method: "PATCH",
      path: `${o}/members/${member.user.id}`,
      body: { role: "auditor" },
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "PATCH",
      path: `${o}/members/${member.user.id}`,
      body: { role: "owner" },
      status: 400,
    });
    await call({
      kind: "valid",
      method: "DELETE",
      path: `${o}/members/${member.user.id}`,
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "DELETE",
      path: `${o}/members/usr_missing`,
      status: 404,
    });

    // Sessions last: they end the session the cases above used.
    await call({ kind: "invalid", method: "POST", path: "/v1/auth/logout", status: 400 });
    await call({
      kind: "valid",
      method: "POST",
      path: "/v1/auth/logout",
      auth: "session",
      status: 200,
    });
    await call({
      kind: "invalid",
      method: "POST",
      path: "/v1/auth/logout-everywhere",
      auth: "none",
      status: 401,
    });
    await call({ kind: "valid", method: "POST", path: "/v1/auth/logout-everywhere", status: 200 });

    const documentedOperations = Object.entries(document.paths).flatMap(([path, operations]) =>
      Object.keys(operations).map((method) => `${method.toUpperCase()} ${path}`),
    );
    // Every operation was called with valid and with invalid input.
    expect(documentedOperations.filter((op) => !counts.invalid.has(op))).toEqual([]);
    expect(documentedOperations.filter((op) => !counts.valid.has(op))).toEqual([]);
    console.log(
      `openapi contract: ${counts.operations.size} of ${documentedOperations.length} operations, ${counts.cases} cases (${counts.valid.size} operations with valid input, ${counts.invalid.size} with invalid input), each answer checked against the document`,
    );
  }, 180_000);
});
