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

/**
 * A place in a log (`?after=`, `?treeSize=`): `fallback` when absent, 400 naming `name` unless
 * plain decimal digits for an integer from 0 to `Number.MAX_SAFE_INTEGER` (no sign, exponent or
 * fraction: a seq is exact, and "1e3" or "5.0" is a client bug worth reporting).
 */
export function readLogPosition(c: Context<AppEnv>, name: string, fallback: number): number {
  const text = c.req.query(name);
  if (text === undefined) return fallback;
  const value = /^[0-9]{1,16}$/.test(text) ? Number(text) : Number.NaN;
  if (!Number.isSafeInteger(value)) {
    throw new ApiError("bad_request", `invalid ${name}`, [
      { path: name, message: "must be a whole number from 0 (decimal digits only)" },
    ]);
  }
  return value;
}
