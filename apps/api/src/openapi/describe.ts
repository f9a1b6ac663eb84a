import { describeRoute, resolver } from "hono-openapi";
import type { z } from "zod";
import { type ErrorStatus, errorRef } from "./error-responses.ts";
import { inputOptions, outputOptions } from "./json-schema.ts";

/**
 * How a route is documented: `describeRoute(operation({ … }))` beside its handler, with the zod
 * schemas the route validates and answers with. The statuses every route of a kind can answer
 * (authentication, rate limits, a bad body, an outage) are added here once, from the middleware
 * the kind implies, so no route can forget them.
 */
export type Auth =
  /** `userAuth`: a session cookie (plus CSRF header when unsafe) or a personal access token. */
  | "user"
  /**
   * `userAuth` + `requireOrgRole()`: the same, for a member of `:org` (on a plan with logs) whose
   * role the route policy (auth/role-policy.ts) allows; the document states those roles.
   */
  | "orgAdmin"
  /** `apiKeyAuth`: an organisation's ingestion key. */
  | "apiKey"
  /** `/metrics`: the scrape token and/or an allowed address. */
  | "metrics"
  /** `viewerLinkAuth`: a scoped viewer link's token (`avl_…`); 401 once expired or revoked. */
  | "viewerLink"
  /** No credential (public, or authorised by the request itself: a signed link, a password). */
  | "none";

type Parameter = {
  name: string;
  in: "path" | "query" | "header" | "cookie";
  description?: string;
  required?: boolean;
  schema: Record<string, unknown>;
  example?: unknown;
  explode?: boolean;
  style?: string;
};

type Response = {
  description: string;
  headers?: Record<string, { description: string; schema: Record<string, unknown> }>;
  content?: Record<string, { schema: unknown }>;
};

export interface OperationSpec {
  tag: string;
  summary: string;
  description?: string;
  auth: Auth;
  /** POST/PUT/PATCH/DELETE: a cookie session must also send X-CSRF-Token. */
  unsafe?: boolean;
  parameters?: Parameter[];
  /** A JSON body checked against this schema (`readJsonBody`), or any JSON (`readJson`). */
  body?: { schema: z.ZodType; description?: string };
  /** The route has a body size limit (`limitBody`): 413 above it. */
  bodyLimit?: boolean;
  responses: Partial<Record<number, Response>>;
  /** Error statuses beyond those the kind of route implies. */
  errors?: ErrorStatus[];
}

const security = {
  user: [{ session: [] }, { personalAccessToken: [] }],
  userUnsafe: [{ session: [], csrfToken: [] }, { personalAccessToken: [] }],
  apiKey: [{ apiKey: [] }],
  viewerLink: [{ viewerLink: [] }],
  metrics: [{ metricsToken: [] }, {}],
  none: [],
};

/** The error statuses a route of this kind can answer, whatever its handler does. */
function impliedErrors(spec: OperationSpec): ErrorStatus[] {
  // Every route: a NUL in the URL (refuseNulInUrl) and an unexpected failure.
  const statuses: ErrorStatus[] = [400, 500];
  if (spec.auth === "user" || spec.auth === "orgAdmin") {
    // Bad credential; the per-person quota and the failed-credential guard; PostgreSQL down.
    statuses.push(401, 429, 503);
    if (spec.unsafe) statuses.push(403);
  }
  if (spec.auth === "orgAdmin") statuses.push(403, 404);
  if (spec.auth === "apiKey") statuses.push(401, 429);
  // Unknown, expired or revoked link; the failed-credential guard and quota; PostgreSQL down;
  // an organisation whose plan lost audit logs.
  if (spec.auth === "viewerLink") statuses.push(401, 403, 429, 503);
  if (spec.body) statuses.push(400, 415);
  if (spec.bodyLimit) statuses.push(413);
  return statuses;
}

export function operation(spec: OperationSpec) {
  const responses: Record<string, unknown> = {};
  for (const [status, response] of Object.entries(spec.responses)) responses[status] = response;
  const errors = [...new Set([...impliedErrors(spec), ...(spec.errors ?? [])])].sort();
  for (const status of errors) {
    if (responses[status] === undefined) responses[status] = errorRef(status);
  }
  const userSecurity = spec.unsafe ? security.userUnsafe : security.user;
  return {
    tags: [spec.tag],
    summary: spec.summary,
    ...(spec.description ? { description: spec.description } : {}),
    security:
      spec.auth === "user" || spec.auth === "orgAdmin"
        ? userSecurity
        : spec.auth === "apiKey"
          ? security.apiKey
          : spec.auth === "viewerLink"
            ? security.viewerLink
            : spec.auth === "metrics"
              ? security.metrics
              : security.none,
    ...(spec.parameters?.length ? { parameters: spec.parameters } : {}),
    ...(spec.body
      ? {
          requestBody: {
            required: true,
            ...(spec.body.description ? { description: spec.body.description } : {}),
            content: { "application/json": { schema: resolver(spec.body.schema, inputOptions) } },
          },
        }
      : {}),
    responses,
  };
}

/** The documentation middleware of a route (hono-openapi): does nothing at run time. */
export function documented(spec: OperationSpec) {
  return describeRoute(operation(spec) as Parameters<typeof describeRoute>[0]);
}

/** A JSON answer of `schema`. */
export function json(
  schema: z.ZodType,
  description: string,
  headers?: Response["headers"],
): Response {
  return {
    description,
    ...(headers ? { headers } : {}),
    content: { "application/json": { schema: resolver(schema, outputOptions) } },
  };
}

/** An answer without a body. */
export function empty(description: string): Response {
  return { description };
}

export function pathParam(name: string, description: string, example?: string): Parameter {
  return {
    name,
    in: "path",
    required: true,
    description,
    schema: { type: "string" },
    ...(example ? { example } : {}),
  };
}

export function queryParam(
  name: string,
  description: string,
  schema: Record<string, unknown> = { type: "string" },
  required = false,
): Parameter {
  return { name, in: "query", description, schema, ...(required ? { required: true } : {}) };
}

export const orgParam = pathParam("org", "The organisation's slug", "acme");

/** `?limit=` (http/query-params.ts `readLimit`). */
export function limitParam(fallback: number, max: number): Parameter {
  return queryParam(`limit`, `Page size, 1 to ${max} (default ${fallback})`, {
    type: "integer",
    minimum: 1,
    maximum: max,
    default: fallback,
  });
}

/**
 * The entry filter of the list, histogram, facets and Hub export routes
 * (audit-log/entry-query-input.ts `readEntryQuery`).
 */
export const entryFilterParams: Parameter[] = [
  queryParam(
    "q",
    'A filter in the query language (see “The query language” in the API description), e.g. `author:alice type:repo.* created:>=2026-01-01 -type:org.sso_login "text"`',
    { type: "string", maxLength: 2000 },
  ),
  ...(
    [
      ["actor", "Actor name or id (alias of `author`); comma-separated values are alternatives"],
      ["author", "Actor name or id; comma-separated values are alternatives"],
      ["type", "Event type or scope wildcard (`org.*`); comma-separated or repeated"],
      ["category", "Event category; comma-separated or repeated"],
      ["target", "Target id or name; comma-separated values are alternatives"],
      ["ip", "IP address or prefix; comma-separated values are alternatives"],
      ["country", "ISO 3166-1 alpha-2 code; comma-separated values are alternatives"],
      ["text", "Words or a phrase searched in the entry's text"],
    ] as const
  ).map(([name, description]) => queryParam(name, description)),
  queryParam("from", "Entries at or after this ISO 8601 date or date-time", { type: "string" }),
  queryParam("to", "Entries before this ISO 8601 date or date-time", { type: "string" }),
  queryParam("includeHidden", "Include the types hidden by default", {
    type: "string",
    enum: ["true", "false"],
    default: "false",
  }),
];

/** A non-JSON answer (a file, a stream, Prometheus text), described by a plain JSON Schema. */
export function body(
  mediaType: string,
  description: string,
  schema: Record<string, unknown> = { type: "string" },
  headers?: Response["headers"],
): Response {
  return { description, ...(headers ? { headers } : {}), content: { [mediaType]: { schema } } };
}
