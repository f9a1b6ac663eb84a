import { getConnInfo } from "@hono/node-server/conninfo";
import type { Context } from "hono";
import type { AppEnv } from "../app-env.ts";

/**
 * The connecting peer's full address: no proxy header is trusted, as any client could forge one.
 * It feeds geolocation (the worker truncates it before storing) and the sign-in limiter's
 * buckets; it must never be logged. Undefined without a socket (in-process test requests).
 */
export function peerAddress(c: Context<AppEnv>): string | undefined {
  try {
    return getConnInfo(c).remote.address;
  } catch {
    return undefined;
  }
}
