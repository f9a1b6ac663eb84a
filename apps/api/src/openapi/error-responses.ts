import { resolver } from "hono-openapi";
import { z } from "zod";
import { type ErrorBody, type ErrorCode, errorCodes } from "../errors.ts";
import { outputOptions } from "./json-schema.ts";

/** One field's problem, as `ApiError` details carry it (errors.ts `ErrorDetail`). */
export const errorDetailSchema = z
  .object({
    path: z.string().meta({
      description:
        "The field, parameter or header at fault, e.g. `events[3].data.role`, `limit`, `q`",
    }),
    message: z.string(),
    position: z
      .number()
      .int()
      .nonnegative()
      .optional()
      .meta({ description: "For `q`: where the bad token starts in the parameter (0-based)" }),
    token: z.string().optional().meta({ description: "For `q`: the bad token" }),
  })
  .meta({ id: "ErrorDetail" });

/** The one error body every failure answers (errors.ts `ErrorBody`), its code limited to `codes`. */
export function errorBodySchema(codes: readonly [ErrorCode, ...ErrorCode[]]) {
  return z.object({
    error: z.object({
      code: z.enum(codes),
      message: z.string().meta({ description: "A sentence for a person; not for matching" }),
      requestId: z
        .string()
        .meta({ description: "Also in the X-Request-Id header and the API's log" }),
      details: z.array(errorDetailSchema).optional(),
    }),
  });
}

// The schema and errors.ts's interface must describe the same body.
type Documented = z.infer<ReturnType<typeof errorBodySchema>>;
const _sameShape: [
  Documented extends ErrorBody ? true : never,
  ErrorBody extends Documented ? true : never,
] = [true, true];
void _sameShape;

/** The statuses an error can have, each a reusable response named in `components.responses`. */
export const errorResponseNames = {
  400: "BadRequest",
  401: "Unauthorized",
  403: "Forbidden",
  404: "NotFound",
  409: "Conflict",
  410: "Gone",
  413: "PayloadTooLarge",
  415: "UnsupportedMediaType",
  422: "QueryTooBroad",
  429: "RateLimited",
  500: "InternalError",
  503: "ServiceUnavailable",
} as const;
export type ErrorStatus = keyof typeof errorResponseNames;

const descriptions: Record<ErrorStatus, string> = {
  400: "Bad input: `details` names each field, parameter or header at fault",
  401: "No credential, or one that is invalid, expired or revoked",
  403: "Authenticated but not allowed (a role the route's policy does not allow, a plan without audit logs, a missing CSRF token, …)",
  404: "No such resource (another organisation's resource answers the same)",
  409: "Conflicts with the current state",
  410: "No longer available",
  413: "The request body is larger than this route accepts",
  415: "The request body is not declared `application/json`",
  422: "The query took too long: narrow the filter",
  429: "Too many requests: retry after `Retry-After` seconds",
  500: "An unexpected failure (logged with the request id)",
  503: "A backing service (PostgreSQL, Redis, the queue) is unavailable: retry later",
};

const rateLimitHeaders = {
  "Retry-After": {
    description: "Seconds to wait before retrying",
    schema: { type: "string" },
  },
  RateLimit: {
    description:
      'draft-ietf-httpapi-ratelimit-headers, e.g. `"user";r=0;t=41` (absent on some limits)',
    schema: { type: "string" },
  },
  "RateLimit-Policy": {
    description: 'The quota, e.g. `"user";q=600;w=60` (absent on some limits)',
    schema: { type: "string" },
  },
} as const;

function codesWithStatus(status: number) {
  const codes = (Object.entries(errorCodes) as [ErrorCode, number][])
    .filter(([, s]) => s === status)
    .map(([code]) => code);
  if (codes.length === 0) throw new Error(`no error code has status ${status}`);
  return codes as [ErrorCode, ...ErrorCode[]];
}

/** `components.responses`: one per error status, its body's `code` one of that status's codes. */
export function errorResponseComponents() {
  return Object.fromEntries(
    (Object.entries(errorResponseNames) as unknown as [string, string][]).map(([status, name]) => {
      const code = Number(status) as ErrorStatus;
      return [
        name,
        {
          description: descriptions[code],
          ...(code === 429 || code === 503
            ? {
                headers:
                  code === 429
                    ? rateLimitHeaders
                    : { "Retry-After": rateLimitHeaders["Retry-After"] },
              }
            : {}),
          content: {
            "application/json": {
              schema: resolver(errorBodySchema(codesWithStatus(code)), outputOptions),
            },
          },
        },
      ];
    }),
  );
}

/** A reference to the shared response of an error status. */
export function errorRef(status: ErrorStatus) {
  return { $ref: `#/components/responses/${errorResponseNames[status]}` };
}
