import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/** Deeper than any body of this API needs (ingestion bodies have their own rules). */
export const maxBodyDepth = 64;

/**
 * The first problem a request body's JSON has for this API: a string (value or key) holding a
 * NUL character — PostgreSQL text cannot hold it (22021), so it is refused here as a 400 naming
 * it, not by a query as a 500 — or nesting deeper than `maxDepth`. Walks without recursion: a
 * body nested thousands deep must not overflow the stack.
 */
export function inspectJsonBody(
  body: unknown,
  maxDepth = maxBodyDepth,
): { path: string; problem: "nul" | "depth" } | null {
  const pending: { value: unknown; path: string; depth: number }[] = [
    { value: body, path: "", depth: 0 },
  ];
  while (pending.length > 0) {
    const { value, path, depth } = pending.pop() as (typeof pending)[number];
    if (typeof value === "string") {
      if (value.includes("\u0000")) return { path: path || "(body)", problem: "nul" };
      continue;
    }
    if (typeof value !== "object" || value === null) continue;
    if (depth >= maxDepth) return { path: path || "(body)", problem: "depth" };
    if (Array.isArray(value)) {
      value.forEach((item, index) => {
        pending.push({ value: item, path: `${path}[${index}]`, depth: depth + 1 });
      });
      continue;
    }
    for (const [key, item] of Object.entries(value)) {
      const here = path ? `${path}.${key}` : key;
      if (key.includes("\u0000")) return { path: here, problem: "nul" };
      pending.push({ value: item, path: here, depth: depth + 1 });
    }
  }
  return null;
}

function decoded(text: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    return text;
  }
}

/**
 * No URL of this API has a use for NUL: a path segment or a query parameter holding one (`%00`)
 * is refused with 400 naming it, before any route hands it to the database.
 */
export const refuseNulInUrl: MiddlewareHandler<AppEnv> = async (c, next) => {
  const url = new URL(c.req.url);
  if (url.pathname.includes("%00") || url.pathname.includes("\u0000")) {
    const segment = url.pathname.split("/").find((part) => decoded(part).includes("\u0000"));
    throw new ApiError("bad_request", "the path holds a NUL character", [
      { path: "path", message: `segment "${(segment ?? "").slice(0, 40)}" holds NUL` },
    ]);
  }
  if (url.search.includes("%00") || url.search.includes("\u0000")) {
    for (const [name, value] of url.searchParams) {
      if (name.includes("\u0000") || value.includes("\u0000")) {
        throw new ApiError(
          "bad_request",
          `query parameter ${name.slice(0, 40)} holds a NUL character`,
          [
            {
              path: name.replaceAll("\u0000", "\\u0000").slice(0, 40),
              message: "must not hold NUL",
            },
          ],
        );
      }
    }
  }
  await next();
};
