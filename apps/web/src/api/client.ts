/**
 * The console's one way to call the API: same-origin fetch with the session cookie, the CSRF
 * header on unsafe requests, and the API's error body turned into an `ApiRequestError`.
 * Responses are parsed with a zod schema from @auditlog/events where the caller names one: the
 * schemas live in their own chunk (schemas.ts), loaded on first use and never before the first
 * screen's own requests.
 */

import { takeEarlyResponse } from "./early-requests.ts";

export interface ApiErrorDetail {
  path: string;
  message: string;
  position?: number;
  token?: string;
}

export class ApiRequestError extends Error {
  override readonly name = "ApiRequestError";
  constructor(
    /** HTTP status; 0 when the server could not be reached. */
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details: ApiErrorDetail[] = [],
    readonly requestId?: string,
  ) {
    super(message);
  }
}

/** Anything with zod's `parse`: the schemas of @auditlog/events. */
export interface Parser<T> {
  parse(value: unknown): T;
}

/** The console's schemas (schemas.ts), a type only: the module itself is loaded on first use. */
export type Schemas = typeof import("./schemas.ts");

/** Picks the schema an answer is checked against, e.g. `(schemas) => schemas.histogramSchema`. */
export type SchemaPick<T> = (schemas: Schemas) => Parser<T>;

let schemasLoading: Promise<Schemas> | undefined;

/**
 * The schemas' chunk (with zod), loaded once. Not imported statically: its download, zod's own
 * setup and the schemas' construction would otherwise all come before the first row.
 */
export function loadSchemas(): Promise<Schemas> {
  schemasLoading ??= import("./schemas.ts").catch((error: unknown) => {
    // A failed download is tried again by the next request, not remembered.
    schemasLoading = undefined;
    throw error;
  });
  return schemasLoading;
}

let csrfToken: string | null = null;

/** The session's CSRF token, from login or GET /v1/me; sent as X-CSRF-Token on unsafe requests. */
export function setCsrfToken(token: string | null | undefined): void {
  csrfToken = token ?? null;
}

export interface RequestOptions<T> {
  method?: "GET" | "POST" | "PUT" | "PATCH" | "DELETE";
  body?: unknown;
  schema?: SchemaPick<T>;
  /**
   * When the answer is checked against `schema`. "now" (the default): before it is returned; a
   * mismatch is an error. "idle": for the log's large, hot pages, whose zod walk (100 entries)
   * was the longest task of the first paint on a slow CPU: returned at once and checked against
   * the same schema once the browser is idle; a mismatch is reported (`onContractViolation`,
   * and the browser console) instead of failing a page that is already on screen.
   */
  check?: "now" | "idle";
  signal?: AbortSignal;
}

export interface ContractViolation {
  path: string;
  error: unknown;
}

const violationListeners = new Set<(violation: ContractViolation) => void>();

/** Called for every answer that a deferred ("idle") check found not to match its schema. */
export function onContractViolation(listener: (violation: ContractViolation) => void): () => void {
  violationListeners.add(listener);
  return () => violationListeners.delete(listener);
}

const whenIdle: (run: () => void) => void =
  typeof requestIdleCallback === "function"
    ? (run) => requestIdleCallback(run, { timeout: 10_000 })
    : (run) => setTimeout(run, 0);

function checkWhenIdle<T>(path: string, pick: SchemaPick<T>, json: unknown): void {
  whenIdle(() => {
    loadSchemas().then(
      (schemas) => {
        try {
          pick(schemas).parse(json);
        } catch (error) {
          console.error(`The answer to GET ${path} does not match the console's schema`, error);
          for (const listener of violationListeners) listener({ path, error });
        }
      },
      // The schemas could not be downloaded: this page, already on screen, stays unchecked.
      () => {},
    );
  });
}

export async function apiRequest<T>(path: string, options: RequestOptions<T> = {}): Promise<T> {
  const method = options.method ?? "GET";
  const headers: Record<string, string> = { accept: "application/json" };
  if (options.body !== undefined) headers["content-type"] = "application/json";
  if (method !== "GET" && csrfToken) headers["x-csrf-token"] = csrfToken;
  // Checked at once: the schemas load while the request is under way, not after it.
  const schemas = options.schema && options.check !== "idle" ? loadSchemas() : undefined;
  // Not awaited when the request fails first: that failure is the one reported.
  schemas?.catch(() => {});
  let response: Response;
  try {
    const early = method === "GET" ? takeEarlyResponse(path) : undefined;
    response = await (early ??
      fetch(path, {
        method,
        headers,
        credentials: "same-origin",
        body: options.body === undefined ? undefined : JSON.stringify(options.body),
        signal: options.signal,
      }));
  } catch (error) {
    if ((error as Error).name === "AbortError") throw error;
    throw new ApiRequestError(
      0,
      "network_error",
      "Cannot reach the server. Check your connection.",
    );
  }
  const text = await response.text();
  let json: unknown;
  try {
    json = text === "" ? undefined : JSON.parse(text);
  } catch {
    json = undefined;
  }
  if (!response.ok) {
    const error = (json as { error?: Partial<ApiRequestError> & { details?: ApiErrorDetail[] } })
      ?.error;
    throw new ApiRequestError(
      response.status,
      error?.code ?? "http_error",
      error?.message ?? `The server answered ${response.status} ${response.statusText}`.trim(),
      error?.details ?? [],
      error?.requestId,
    );
  }
  if (!options.schema) return json as T;
  if (!schemas) {
    checkWhenIdle(path, options.schema, json);
    return json as T;
  }
  let loaded: Schemas;
  try {
    loaded = await schemas;
  } catch {
    throw new ApiRequestError(
      0,
      "network_error",
      "Cannot reach the server. Check your connection.",
    );
  }
  return options.schema(loaded).parse(json);
}

/** Whether retrying could help: not for answers the server gave on purpose (4xx). */
export function isRetryable(error: unknown): boolean {
  return !(error instanceof ApiRequestError && error.status >= 400 && error.status < 500);
}

export function errorMessage(error: unknown): string {
  if (error instanceof ApiRequestError) return error.message;
  if (error instanceof Error) return error.message;
  return "Something went wrong";
}
