import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { peerAddress } from "../http/client-address.ts";
import { hashApiKey, looksLikeApiKey } from "./api-keys.ts";

/**
 * Ingestion routes: `Authorization: Bearer alk_…`, checked by the process's key verifier (known
 * keys from memory, re-checked every second, served through a PostgreSQL outage; unknown ones
 * through the auth guard). Sets `c.var.ingestOrg`.
 */
export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new ApiError("unauthorized", "missing Authorization: Bearer <api key>");
  }
  const key = match[1];
  if (!looksLikeApiKey(key)) throw new ApiError("unauthorized", "invalid API key");
  const { apiKeys, authGuard } = c.var.services;
  const address = peerAddress(c);
  // Only a key this process does not know costs a lookup, so only that one passes the guard.
  const verdict = await apiKeys.verify(hashApiKey(key), () => authGuard.admit(address));
  if (!verdict.valid) {
    authGuard.failed(address);
    throw new ApiError("unauthorized", "invalid API key");
  }
  c.set("ingestOrg", { ...verdict.org, keyId: verdict.keyId });
  await next();
});
