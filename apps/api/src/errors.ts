import { isServiceOutage, isStatementTimeout } from "@auditlog/db";
import type { Context } from "hono";
import { HTTPException } from "hono/http-exception";
import type { ContentfulStatusCode } from "hono/utils/http-status";
import type { AppEnv } from "./app-env.ts";

export const errorCodes = {
  bad_request: 400,
  invalid_json: 400,
  validation_failed: 400,
  unauthorized: 401,
  forbidden: 403,
  not_found: 404,
  conflict: 409,
  gone: 410,
  payload_too_large: 413,
  unsupported_media_type: 415,
  query_too_broad: 422,
  rate_limited: 429,
  internal_error: 500,
  service_unavailable: 503,
} as const satisfies Record<string, ContentfulStatusCode>;
export type ErrorCode = keyof typeof errorCodes;

export interface ErrorDetail {
  path: string;
  message: string;
  /** For query-language errors: where the bad token starts in the parameter, and the token. */
  position?: number;
  token?: string;
}

/** The one error type routes throw; `app.onError` turns it into the common body. */
export class ApiError extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details?: ErrorDetail[],
    /** Headers the answer carries (Retry-After and RateLimit-* on a 429, for example). */
    readonly headers?: Record<string, string>,
  ) {
    super(message);
  }
  get status(): ContentfulStatusCode {
    return errorCodes[this.code];
  }
}

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string; details?: ErrorDetail[] };
}

export function errorResponse(c: Context<AppEnv>, error: ApiError) {
  for (const [name, value] of Object.entries(error.headers ?? {})) c.header(name, value);
  const body: ErrorBody = {
    error: {
      code: error.code,
      message: error.message,
      requestId: c.get("requestId"),
      ...(error.details ? { details: error.details } : {}),
    },
  };
  return c.json(body, error.status);
}

/** Every failure leaves as `{ error: { code, message, requestId, details? } }`; never a stack. */
export function handleError(error: Error, c: Context<AppEnv>) {
  if (error instanceof ApiError) return errorResponse(c, error);
  if (error instanceof HTTPException) {
    const code = (Object.entries(errorCodes).find(([, s]) => s === error.status)?.[0] ??
      "bad_request") as ErrorCode;
    return errorResponse(c, new ApiError(code, error.message || code.replace(/_/g, " ")));
  }
  if (isStatementTimeout(error)) {
    return errorResponse(
      c,
      new ApiError(
        "query_too_broad",
        "the query took too long; narrow the filter (a time range, a type, an actor) and try again",
      ),
    );
  }
  if (isServiceOutage(error)) {
    return errorResponse(
      c,
      new ApiError("service_unavailable", "a backing service is unavailable; retry later"),
    );
  }
  // Unexpected: log the message only (never request bodies, which carry full IP addresses).
  c.var.services?.logger.error("unhandled error", {
    requestId: c.get("requestId"),
    error: error.message,
  });
  return errorResponse(c, new ApiError("internal_error", "internal error"));
}
