import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";

/** `?limit=`: `fallback` when absent, 400 naming `limit` unless an integer from 1 to `max`. */
export function readLimit(c: Context<AppEnv>, fallback: number, max: number): number {
  const text = c.req.query("limit");
  if (text === undefined) return fallback;
  const limit = Number(text);
  if (!Number.isInteger(limit) || limit < 1 || limit > max) {
    throw new ApiError("bad_request", "invalid limit", [
      { path: "limit", message: `must be an integer from 1 to ${max}` },
    ]);
  }
  return limit;
}
