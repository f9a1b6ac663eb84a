import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createMemberWithToken,
  createOrgWithKey,
  entryRow,
  insertRows,
  startTestApi,
} from "./support/test-stack.ts";

/**
 * No input may produce a 5xx (issue 13 §5). Every route family gets generated requests — hostile
 * strings (NUL, lone surrogates, U+FFFF, long values, percent-encoding that does not decode),
 * wrong types, deep nesting, forged credentials — through the real API, PostgreSQL and Redis,
 * and every answer must be below 500. Counts per family and status are printed.
 */
const runsPerFamily = 800;

type Stack = Awaited<ReturnType<typeof startTestApi>>;
let stack: Stack;
let orgSlug: string;
let otherSlug: string;
let apiKey: string;
let token: string;
const statuses = new Map<string, Map<number, number>>();

function count(family: string, status: number) {
  const byStatus = statuses.get(family) ?? new Map<number, number>();
  byStatus.set(status, (byStatus.get(status) ?? 0) + 1);
  statuses.set(family, byStatus);
}

/** The string with each lone surrogate replaced by U+FFFD (what `encodeURIComponent` needs). */
function wellFormed(value: string): string {
  return value.replace(
    /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g,
    "\ufffd",
  );
}

/** Strings a careless parser chokes on, mixed with ordinary ones. */
const hostile = fc.oneof(
  { weight: 4, arbitrary: fc.string({ maxLength: 40 }) },
  { weight: 3, arbitrary: fc.string({ unit: "binary", maxLength: 40 }) },
  {
    weight: 3,
    arbitrary: fc.constantFrom(
      "\u0000",
      "a\u0000b",
      "\ud800",
      "\udfff\ud800",
      "\uffff",
      "\ufeff",
      "%00",
      "../../etc/passwd",
      "' OR 1=1 --",
      "${jndi:ldap://x}",
      "<script>alert(1)</script>",
      '=HYPERLINK("x")',
      "type:repo.*",
      "created:>=2026-01-01",
      "ip:203.0.113.",
      "ip:::ffff:1.2.3.4",
      "country:zz",
      '"unterminated',
      "-",
      "*",
      "9999-12-31T23:59:59.999Z",
      "0000-00-00",
      "NaN",
      "-1",
      "1e309",
      "exp_0123456789abcdef01234567",
      "evt_0123456789abcdef01234567",
    ),
  },
  { weight: 1, arbitrary: fc.string({ minLength: 2000, maxLength: 5000 }) },
);

/**
 * Bodies as text: broken JSON, and JSON nested thousands deep (built as text: `JSON.stringify`
 * itself overflows its stack on such a value, which is how a deep body once became a 503).
 */
const rawBody = fc.option(
  fc.oneof(
    fc.constantFrom("{", "[", '{"events":', "\u0000", "null", '"x"', "[]", '{"events":[]}'),
    fc
      .integer({ min: 100, max: 6000 })
      .map(
        (depth) =>
          `{"type":"repo.create","actor":{"type":"user","id":"u","name":"u"},"data":{"repo":{"type":"model","name":"a/b"},"deep":${'{"d":'.repeat(depth)}1${"}".repeat(depth)}}}`,
      ),
    fc.integer({ min: 100, max: 6000 }).map((depth) => `${"[".repeat(depth)}${"]".repeat(depth)}`),
  ),
  { nil: undefined, freq: 4 },
);

/** Raw percent-encoding, decodable or not. */
const rawSegment = fc.oneof(
  hostile.map((value) => encodeURIComponent(wellFormed(value))),
  fc.constantFrom("%", "%zz", "%ff%fe", "%c0%af", "%2e%2e", "%00", "%ed%a0%80", "..", "%252e"),
);

const queryString = fc
  .array(
    fc.tuple(
      fc.oneof(
        fc.constantFrom(
          "q",
          "actor",
          "author",
          "type",
          "category",
          "target",
          "ip",
          "country",
          "text",
          "from",
          "to",
          "includeHidden",
          "limit",
          "cursor",
          "interval",
          "tz",
          "unread",
          "before",
          "expires",
          "signature",
          "after",
        ),
        rawSegment,
      ),
      rawSegment,
    ),
    { maxLength: 6 },
  )
  .map((pairs) => (pairs.length ? `?${pairs.map(([k, v]) => `${k}=${v}`).join("&")}` : ""));

/** JSON values, and request-shaped objects with hostile fields. */
const jsonBody = fc.oneof(
  { weight: 6, arbitrary: fc.jsonValue({ maxDepth: 4 }) },
  {
    weight: 2,
    arbitrary: fc.record(
      {
        format: fc.oneof(fc.constantFrom("json", "ndjson", "csv", "xml"), hostile),
        q: hostile,
        filters: fc.dictionary(
          fc.constantFrom("actor", "type", "from", "to", "text", "ip", "includeHidden"),
          fc.oneof(hostile, fc.array(hostile, { maxLength: 3 }), fc.boolean()),
        ),
        url: hostile,
        rotateSecret: fc.oneof(fc.boolean(), hostile),
        name: hostile,
        expiresInDays: fc.oneof(fc.integer(), hostile),
        email: hostile,
        password: hostile,
      },
      { requiredKeys: [] },
    ),
  },
);

/** A valid event with one field (at any depth) replaced by something hostile. */
const spoiledEvent = fc
  .tuple(
    fc.constantFrom(
      ["id"],
      ["type"],
      ["occurredAt"],
      ["actor", "type"],
      ["actor", "id"],
      ["actor", "name"],
      ["actor", "avatarUrl"],
      ["target", "id"],
      ["target", "name"],
      ["context", "ip"],
      ["context", "userAgent"],
      ["data", "repo", "name"],
      ["data", "extra"],
      ["data"],
    ),
    fc.oneof(hostile, fc.jsonValue({ maxDepth: 3 })),
  )
  .map(([path, value]) => {
    const event: Record<string, unknown> = {
      type: "repo.create",
      actor: { type: "user", id: "usr_fuzz", name: "fuzz" },
      target: { type: "model", id: "acme/bert", name: "acme/bert" },
      data: { repo: { type: "model", name: "acme/bert" } },
      context: { ip: "203.0.113.7", userAgent: "fuzz/1" },
    };
    let at = event;
    for (const key of path.slice(0, -1)) at = at[key] as Record<string, unknown>;
    at[path.at(-1) as string] = value;
    return event;
  });

/** An export request close to a valid one. */
const exportRequest = fc.record(
  {
    format: fc.oneof(fc.constantFrom("json", "ndjson", "csv"), hostile),
    q: hostile,
    filters: fc.record(
      {
        actor: hostile,
        type: fc.array(hostile, { maxLength: 3 }),
        category: fc.array(hostile, { maxLength: 3 }),
        target: hostile,
        ip: hostile,
        country: hostile,
        from: hostile,
        to: hostile,
        text: hostile,
        includeHidden: fc.oneof(fc.boolean(), hostile),
      },
      { requiredKeys: [] },
    ),
  },
  { requiredKeys: ["format"] },
);

const authorization = fc.oneof(
  { weight: 6, arbitrary: fc.constant("valid") },
  {
    weight: 1,
    arbitrary: fc.oneof(
      fc.constant(""),
      fc.constant("Bearer "),
      fc.constant("Bearer alp_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
      fc.constant("Bearer alk_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"),
      fc.constant("Basic dXNlcjpwYXNz"),
      hostile.map((value) => `Bearer ${wellFormed(value).replace(/[\r\n]/g, "")}`),
    ),
  },
);

interface FuzzRequest {
  method: string;
  path: string;
  body?: unknown;
  rawBody?: string;
  contentType?: string;
  auth: string;
  cookie?: string;
}

function headerSafe(value: string): string {
  // Header values must be Latin-1 without CR/LF for fetch to send them at all.
  return [...value].filter((c) => c.charCodeAt(0) >= 0x20 && c.charCodeAt(0) < 0x7f).join("");
}

async function send(family: string, request: FuzzRequest) {
  const headers: Record<string, string> = {};
  const auth =
    request.auth === "valid" ? `Bearer ${family === "ingest" ? apiKey : token}` : request.auth;
  if (auth) headers.authorization = headerSafe(auth);
  if (request.cookie !== undefined) headers.cookie = headerSafe(request.cookie);
  let body: string | undefined;
  if (request.method !== "GET" && request.method !== "HEAD") {
    headers["content-type"] = request.contentType ?? "application/json";
    body =
      request.rawBody ?? (request.body === undefined ? undefined : JSON.stringify(request.body));
  }
  const response = await stack.app.request(request.path, {
    method: request.method,
    headers,
    ...(body === undefined ? {} : { body }),
  });
  // Read it all: a stream that fails after its headers would otherwise go unnoticed.
  await response.arrayBuffer();
  count(family, response.status);
  return response.status;
}

function family(name: string, requests: fc.Arbitrary<FuzzRequest>) {
  it(`${name}: no answer at or above 500 for ${runsPerFamily} generated requests`, {
    timeout: 240_000,
  }, async () => {
    await fc.assert(
      fc.asyncProperty(requests, async (request) => {
        const status = await send(name, request);
        expect(status, `${request.method} ${request.path.slice(0, 200)}`).toBeLessThan(500);
      }),
      { numRuns: runsPerFamily },
    );
    expect(statuses.get(name)).toBeDefined();
  });
}

const org = () => orgSlug;

describe("fuzz: every route family, never a 5xx", () => {
  beforeAll(async () => {
    stack = await startTestApi({
      // Fuzzing hammers with one token and one key: the quotas would answer most of it with 429.
      USER_RATE_LIMIT: "1000000",
      INGEST_RATE_LIMIT: "1000000",
      EXPORT_MAX_PENDING_PER_ORG: "100",
      LOGIN_MAX_FAILURES: "1000000",
    });
    const created = await createOrgWithKey("team", "fuzz");
    orgSlug = created.org.slug;
    apiKey = created.apiKey;
    otherSlug = (await createOrgWithKey("team", "fuzz-other")).org.slug;
    token = (await createMemberWithToken(orgSlug, "admin")).token;
    await insertRows(
      Array.from({ length: 50 }, (_, i) =>
        entryRow(created.org.id, { occurredAt: new Date(Date.now() - i * 60_000) }),
      ),
    );
  }, 60_000);

  afterAll(async () => {
    const lines = [...statuses].map(
      ([name, byStatus]) =>
        `  ${name.padEnd(14)} ${[...byStatus]
          .sort(([a], [b]) => a - b)
          .map(([status, n]) => `${status}×${n}`)
          .join(" ")}`,
    );
    const total = [...statuses.values()].reduce(
      (sum, byStatus) => sum + [...byStatus.values()].reduce((a, b) => a + b, 0),
      0,
    );
    const fiveHundreds = [...statuses.values()].reduce(
      (sum, byStatus) =>
        sum + [...byStatus].filter(([s]) => s >= 500).reduce((a, [, n]) => a + n, 0),
      0,
    );
    console.log(`fuzz: ${total} requests, ${fiveHundreds} answered ≥ 500\n${lines.join("\n")}`);
    await stack?.services.ingestQueue.obliterate({ force: true });
    await stack?.services.exportQueue.obliterate({ force: true });
    await stack?.services.close();
  });

  family(
    "ingest",
    fc.record({
      method: fc.constant("POST"),
      path: fc.constant("/v1/events"),
      body: fc.oneof(
        jsonBody,
        fc.record(
          {
            id: hostile,
            type: fc.oneof(
              fc.constantFrom("repo.create", "org.change_role", "org.audit_log.export"),
              hostile,
            ),
            occurredAt: fc.oneof(
              hostile,
              fc.date().map((d) => (Number.isNaN(d.getTime()) ? "x" : d.toISOString())),
            ),
            actor: fc.record(
              {
                type: fc.oneof(fc.constant("user"), hostile),
                id: hostile,
                name: hostile,
                avatarUrl: hostile,
              },
              { requiredKeys: [] },
            ),
            target: fc.record({ type: hostile, id: hostile, name: hostile }, { requiredKeys: [] }),
            context: fc.record({ ip: hostile, userAgent: hostile }, { requiredKeys: [] }),
            data: jsonBody,
          },
          { requiredKeys: [] },
        ),
        fc.array(jsonBody, { maxLength: 3 }).map((events) => ({ events })),
        { weight: 4, arbitrary: spoiledEvent },
        fc.array(spoiledEvent, { maxLength: 5 }).map((events) => ({ events })),
      ),
      rawBody,
      contentType: fc.option(
        fc.constantFrom("application/json", "text/plain", "application/json; charset=utf-8", ""),
        { nil: undefined },
      ),
      auth: authorization,
    }),
  );

  family(
    "list",
    fc.record({
      method: fc.constant("GET"),
      path: fc
        .tuple(
          fc.constantFrom(
            org,
            () => otherSlug,
            () => "%00",
            () => "nope",
          ),
          queryString,
        )
        .map(([slug, query]) => `/v1/orgs/${slug()}/audit-logs${query}`),
      auth: authorization,
    }),
  );

  family(
    "histogram",
    fc.record({
      method: fc.constant("GET"),
      path: queryString.map((query) => `/v1/orgs/${org()}/audit-logs/histogram${query}`),
      auth: authorization,
    }),
  );

  family(
    "feed",
    fc.record({
      method: fc.oneof({ weight: 5, arbitrary: fc.constant("GET") }, fc.constant("POST")),
      path: fc
        .tuple(
          fc.oneof(
            { weight: 4, arbitrary: fc.constant(org) },
            fc.constantFrom(
              () => otherSlug,
              () => "nope",
            ),
          ),
          fc.oneof(
            queryString,
            fc
              .tuple(
                fc.oneof(rawSegment, fc.bigInt({ min: -1n, max: 2n ** 64n }).map(String)),
                fc.oneof(rawSegment, fc.integer({ min: -2, max: 1002 }).map(String)),
              )
              .map(([after, limit]) => `?after=${after}&limit=${limit}`),
          ),
        )
        .map(([slug, query]) => `/v1/orgs/${slug()}/audit-logs/feed${query}`),
      auth: authorization,
    }),
  );

  family(
    "entry",
    fc.record({
      method: fc.constantFrom("GET", "DELETE", "PUT"),
      path: rawSegment.map((id) => `/v1/orgs/${org()}/audit-logs/${id}`),
      auth: authorization,
    }),
  );

  family(
    "hub-export",
    fc.record({
      method: fc.constant("GET"),
      path: queryString.map((query) => `/api/organizations/${org()}/audit-log/export${query}`),
      auth: authorization,
    }),
  );

  family(
    "exports",
    fc.oneof(
      fc.record({
        method: fc.constant("POST"),
        path: fc.constant(null).map(() => `/v1/orgs/${org()}/exports`),
        body: fc.oneof({ weight: 3, arbitrary: exportRequest }, jsonBody),
        auth: authorization,
      }),
      fc.record({
        method: fc.constantFrom("GET", "POST", "DELETE"),
        path: fc
          .tuple(rawSegment, fc.constantFrom("", "/download", "/link"), queryString)
          .map(([id, tail, query]) => `/v1/orgs/${org()}/exports/${id}${tail}${query}`),
        body: jsonBody,
        auth: authorization,
      }),
      fc.record({
        method: fc.constant("GET"),
        path: queryString.map((query) => `/v1/orgs/${org()}/exports${query}`),
        auth: authorization,
      }),
    ),
  );

  family(
    "signed-links",
    fc.record({
      method: fc.constant("GET"),
      path: fc
        .tuple(rawSegment, queryString)
        .map(([id, query]) => `/v1/export-downloads/${id}${query}`),
      auth: fc.constant(""),
    }),
  );

  family(
    "notifications",
    fc.oneof(
      fc.record({
        method: fc.constant("GET"),
        path: queryString.map((query) => `/v1/notifications${query}`),
        auth: authorization,
      }),
      fc.record({
        method: fc.constant("POST"),
        path: fc.oneof(
          rawSegment.map((id) => `/v1/notifications/${id}/read`),
          fc.constant("/v1/notifications/read-all"),
        ),
        body: jsonBody,
        auth: authorization,
      }),
    ),
  );

  family(
    "webhook",
    fc.record({
      method: fc.constantFrom("GET", "PUT", "DELETE", "POST"),
      path: fc.constant(null).map(() => `/v1/orgs/${org()}/webhook`),
      body: jsonBody,
      rawBody,
      auth: authorization,
    }),
  );

  // The data lifecycle's settings and erasures (issue 16): generic bodies and ones shaped like
  // the real requests, with hostile values where the numbers and ids go.
  family(
    "retention",
    fc.record({
      method: fc.constantFrom("GET", "PUT", "POST", "DELETE"),
      path: fc.constant(null).map(() => `/v1/orgs/${org()}/retention`),
      body: fc.oneof(
        jsonBody,
        fc.record(
          {
            days: fc.oneof(fc.integer(), fc.double(), fc.constant(null), fc.string()),
            legalHold: fc.oneof(fc.boolean(), fc.string()),
            reason: fc.oneof(fc.string({ maxLength: 600 }), fc.integer()),
          },
          { requiredKeys: [] },
        ),
      ),
      rawBody,
      auth: authorization,
    }),
  );

  // Alert rules (issue 17): generic bodies and ones shaped like a rule, hostile where the query,
  // the Slack URL and the numbers go; ids hostile too.
  family(
    "alerts",
    fc.record({
      method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
      path: fc.oneof(
        fc.constant(null).map(() => `/v1/orgs/${org()}/alerts`),
        rawSegment.map((id) => `/v1/orgs/${org()}/alerts/${id}`),
        rawSegment.map((id) => `/v1/orgs/${otherSlug}/alerts/${id}`),
      ),
      body: fc.oneof(
        jsonBody,
        fc.record(
          {
            name: fc.oneof(hostile, fc.integer()),
            q: fc.oneof(
              hostile,
              fc.constantFrom("type:org.sso.* -author:scim-bot", "type:", "created:>=x", '"'),
            ),
            channels: fc.oneof(
              hostile,
              fc.record(
                {
                  console: fc.oneof(fc.boolean(), hostile),
                  email: fc.oneof(fc.boolean(), hostile),
                  webhook: fc.oneof(fc.boolean(), hostile),
                  slackUrl: fc.oneof(
                    hostile,
                    fc.constant(null),
                    fc.constantFrom(
                      "https://hooks.slack.com/services/T0/B0/x",
                      "http://169.254.169.254/latest",
                      "https://[::1]/x",
                      "https://user:pw@example.com/",
                    ),
                  ),
                },
                { requiredKeys: [] },
              ),
            ),
            groupWindowSeconds: fc.oneof(fc.integer(), fc.double(), fc.string()),
            enabled: fc.oneof(fc.boolean(), hostile),
          },
          { requiredKeys: [] },
        ),
      ),
      rawBody,
      auth: authorization,
    }),
  );

  family(
    "erasures",
    fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE"),
      path: fc.oneof(
        fc.constant(null).map(() => `/v1/orgs/${org()}/erasures`),
        rawSegment.map((id) => `/v1/orgs/${org()}/erasures/${id}`),
      ),
      body: fc.oneof(jsonBody, fc.record({ actorId: fc.oneof(rawSegment, fc.integer()) })),
      rawBody,
      auth: authorization,
    }),
  );

  // Dead letters (issue 18): the list's query parameters, generic and number-shaped (ids past
  // the bigint range, signs, exponents, fractions), where `before` meets PostgreSQL's bigint.
  const numberLike = fc.oneof(
    fc.bigInt({ min: -(10n ** 21n), max: 10n ** 21n }).map(String),
    fc.constantFrom("9223372036854775807", "9223372036854775808", "0", "-1", "1e3", "5.0", "0x10"),
    rawSegment,
  );
  family(
    "dead-letters",
    fc.record({
      method: fc.constantFrom("GET", "GET", "GET", "POST", "DELETE"),
      path: fc
        .tuple(
          fc.oneof(
            queryString,
            fc
              .tuple(fc.constantFrom("limit", "before"), numberLike)
              .map(([key, value]) => `?${key}=${value}`),
            fc
              .tuple(numberLike, numberLike)
              .map(([limit, before]) => `?limit=${limit}&before=${before}`),
          ),
          // Mostly the list itself; now and then a path below it (no route: 404).
          fc.oneof(
            { weight: 5, arbitrary: fc.constant(undefined) },
            { weight: 1, arbitrary: rawSegment },
          ),
        )
        .map(
          ([query, segment]) =>
            `/v1/orgs/${org()}/dead-letters${segment === undefined ? "" : `/${segment}`}${query}`,
        ),
      body: jsonBody,
      auth: authorization,
    }),
  );

  // Log streams (issue 17): generic bodies and ones shaped like a stream, with hostile values
  // where the type, the addresses, the secrets, the query and the start go.
  const streamDestination = fc.record(
    {
      type: fc.oneof(fc.constantFrom("https", "splunk", "datadog", "s3"), hostile),
      url: fc.oneof(
        fc.constantFrom("https://siem.example.com", "http://10.0.0.1", "https://[::1]:8088"),
        hostile,
      ),
      token: fc.oneof(hostile, fc.integer()),
      apiKey: hostile,
      signingSecret: hostile,
      site: hostile,
      bucket: hostile,
      prefix: hostile,
      endpoint: fc.oneof(fc.constant("https://169.254.169.254"), hostile),
      accessKeyId: hostile,
      secretAccessKey: hostile,
      forcePathStyle: fc.oneof(fc.boolean(), hostile),
    },
    { requiredKeys: [] },
  );
  family(
    "streams",
    fc.record({
      method: fc.constantFrom("GET", "POST", "PATCH", "DELETE", "PUT"),
      path: fc.oneof(
        fc.constant(null).map(() => `/v1/orgs/${org()}/streams`),
        rawSegment.map((id) => `/v1/orgs/${org()}/streams/${id}`),
        rawSegment.map((id) => `/v1/orgs/${org()}/streams/${id}/test`),
      ),
      body: fc.oneof(
        jsonBody,
        fc.record(
          {
            name: fc.oneof(hostile, fc.integer()),
            destination: fc.oneof(streamDestination, jsonBody),
            q: hostile,
            paused: fc.oneof(fc.boolean(), hostile),
            start: fc.oneof(
              fc.constant("now"),
              fc.record({ seq: fc.oneof(fc.integer(), fc.double(), hostile) }),
              hostile,
            ),
          },
          { requiredKeys: [] },
        ),
      ),
      rawBody,
      auth: authorization,
    }),
  );

  family(
    "me",
    fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE"),
      path: fc.oneof(
        fc.constant("/v1/me"),
        fc.constant("/v1/me/tokens"),
        rawSegment.map((id) => `/v1/me/tokens/${id}`),
      ),
      body: jsonBody,
      rawBody,
      auth: authorization,
    }),
  );

  family(
    "sign-in",
    fc.record({
      method: fc.constant("POST"),
      path: fc.constantFrom("/v1/auth/login", "/v1/auth/logout"),
      body: jsonBody,
      rawBody,
      auth: fc.constantFrom("", "valid"),
      cookie: fc.option(
        hostile.map((value) => `auditlog_session=${value}`),
        { nil: undefined },
      ),
    }),
  );

  family(
    "anything-else",
    fc.record({
      method: fc.constantFrom("GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD"),
      path: fc
        .tuple(
          fc.constantFrom("", "/v1", "/api", "/assets", "/orgs"),
          fc.array(rawSegment, { maxLength: 4 }),
          queryString,
        )
        .map(([prefix, segments, query]) => `${prefix}/${segments.join("/")}${query}`),
      body: jsonBody,
      rawBody,
      auth: authorization,
    }),
  );

  family(
    "keys-members",
    fc.record({
      method: fc.constantFrom("GET", "POST", "DELETE", "PUT"),
      path: fc.oneof(
        fc.constant(null).map(() => `/v1/orgs/${org()}/keys`),
        rawSegment.map((id) => `/v1/orgs/${org()}/keys/${id}`),
        rawSegment.map((id) => `/v1/orgs/${org()}/members/${id}`),
        fc.constant("/v1/auth/logout-everywhere"),
      ),
      body: jsonBody,
      rawBody,
      auth: authorization,
    }),
  );

  family(
    "health",
    fc.record({
      method: fc.constantFrom("GET", "HEAD", "POST"),
      path: fc
        .tuple(fc.constantFrom("/healthz", "/readyz"), queryString)
        .map(([p, q]) => `${p}${q}`),
      auth: authorization,
    }),
  );
});
