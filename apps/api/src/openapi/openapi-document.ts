import { rolesThatCan } from "@auditlog/events";
import type { Hono } from "hono";
import { generateSpecs } from "hono-openapi";
import type { AppEnv } from "../app-env.ts";
import { accessOf } from "../auth/role-policy.ts";
import { errorResponseComponents } from "./error-responses.ts";
import { queryLanguageMarkdown } from "./query-language.ts";

const description = `The audit log's HTTP API: ingestion of events by platform services (API keys), and
everything an organisation's members do with its log (sessions or personal access tokens).

Every error answers \`{ "error": { "code", "message", "requestId", "details"? } }\` with the
status of its code; \`details\` names each field, parameter or header at fault.

## Authentication

- **Ingestion** (\`POST /v1/events\`): \`Authorization: Bearer alk_…\`, an organisation's API key.
  API keys are refused everywhere else.
- **People**: the session cookie set by \`POST /v1/auth/login\`, or \`Authorization: Bearer alp_…\`,
  a personal access token (\`POST /v1/me/tokens\`). With the cookie, every POST, PUT, PATCH and
  DELETE must also send \`X-CSRF-Token\` (the \`csrfToken\` from login or \`GET /v1/me\`); a token
  needs none.
- **Viewer links** (\`/v1/viewer/…\`): \`Authorization: Bearer avl_…\`, a scoped viewer link made by
  an admin; it reads only the entries matching the link's filter, until it expires or is revoked.
- Organisation routes (\`/v1/orgs/{org}/…\`) are for the organisation's members whose role the
  operation allows (its \`x-roles\`, and the first line of its description), on a plan with
  audit logs: \`admin\` may do everything, \`auditor\` reads, searches, exports and verifies the
  log and sees its streams, alerts, retention and erasures but changes nothing; \`write\` and
  \`read\` members have no access to the log. Another role answers 403; an organisation the
  caller is not a member of answers 404 like a missing one.

## The query language

${queryLanguageMarkdown()}
`;

const tags = [
  ["Ingestion", "Events sent by platform services"],
  ["Sessions", "Signing in and out"],
  ["Me", "The signed-in person and their personal access tokens"],
  ["Audit log", "An organisation's entries: list, chart, facets, completion, feed"],
  ["Transparency", "Signed checkpoints, inclusion and consistency proofs, verification"],
  ["Exports", "Background exports and their downloads"],
  ["Notifications", "The signed-in person's notifications and live stream"],
  ["API keys", "An organisation's ingestion keys"],
  ["Members", "An organisation's members"],
  ["Webhook", "An organisation's export webhook"],
  ["Saved views", "A person's saved filters of an organisation's log"],
  ["Viewer links", "Read-only links scoped to a filter, and the embeddable viewer's framing"],
  ["Viewer", "What a viewer link's holder reads: only entries matching the link's filter"],
  ["Retention", "How long the log is kept, legal hold"],
  ["Erasures", "Erasing a person's personal fields (GDPR art. 17)"],
  ["Dead letters", "Events the worker refused"],
  ["Streams", "Streaming the log to SIEMs and buckets"],
  ["Alerts", "Alert rules"],
  ["Operations", "Health, readiness and metrics"],
].map(([name, text]) => ({ name: name as string, description: text as string }));

/** Everything in the document that is not a route's own declaration. */
export function openApiDocumentation(options: { publicUrl: string }) {
  return {
    info: {
      title: "auditlog API",
      version: "1",
      description,
    },
    servers: [{ url: options.publicUrl ? new URL(options.publicUrl).origin : "/" }],
    tags,
    components: {
      securitySchemes: {
        apiKey: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "alk_…",
          description: "An organisation's ingestion key: POST /v1/events only",
        },
        personalAccessToken: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "alp_…",
          description: "A personal access token (POST /v1/me/tokens); needs no CSRF token",
        },
        session: {
          type: "apiKey",
          in: "cookie",
          name: "auditlog_session",
          description:
            "The session cookie set by POST /v1/auth/login (`__Host-auditlog_session` when served over https)",
        },
        csrfToken: {
          type: "apiKey",
          in: "header",
          name: "X-CSRF-Token",
          description:
            "With the session cookie, on every POST, PUT, PATCH and DELETE: the csrfToken from login or GET /v1/me",
        },
        viewerLink: {
          type: "http",
          scheme: "bearer",
          bearerFormat: "avl_…",
          description:
            "A scoped viewer link's token (POST /v1/orgs/{org}/viewer-links): /v1/viewer only",
        },
        metricsToken: {
          type: "http",
          scheme: "bearer",
          description: "METRICS_TOKEN, when configured (else METRICS_ALLOW_CIDRS decides)",
        },
      },
      responses: errorResponseComponents(),
    },
  };
}

/** The OpenAPI 3.1 document of every route of `app` declared with `documented(…)`. */
export async function generateOpenApiDocument(
  app: Hono<AppEnv>,
  options: { publicUrl: string },
): Promise<Record<string, unknown>> {
  // hono-openapi types the documentation as OpenAPI 3.0 (`openapi-types`); this one is 3.1.
  const documentation = openApiDocumentation(options) as Parameters<
    typeof generateSpecs
  >[1] extends infer O
    ? O extends { documentation?: infer D }
      ? D
      : never
    : never;
  const document = (await generateSpecs(app, { documentation })) as Record<string, unknown>;
  stateRoles(document);
  return document;
}

/**
 * Each organisation operation says which roles may call it, from the role policy itself
 * (auth/role-policy.ts): `x-roles`, and a first line of its description.
 */
function stateRoles(document: Record<string, unknown>): void {
  const paths = (document.paths ?? {}) as Record<string, Record<string, Record<string, unknown>>>;
  for (const [path, operations] of Object.entries(paths)) {
    const honoPath = path.replace(/\{([A-Za-z0-9_]+)\}/g, ":$1");
    for (const [method, operation] of Object.entries(operations)) {
      const access = accessOf(method.toUpperCase(), honoPath);
      if (access !== "readLog" && access !== "administer") continue;
      const roles = rolesThatCan(access);
      operation["x-roles"] = roles;
      const line = `Roles: ${roles.join(", ")}.`;
      const text = typeof operation.description === "string" ? operation.description : "";
      operation.description = text ? `${line}\n\n${text}` : line;
    }
  }
}
