import { findOrgByApiKeyHash } from "@auditlog/db";
import { createMiddleware } from "hono/factory";
import type { AppEnv } from "../app-env.ts";
import { ApiError } from "../errors.ts";
import { hashApiKey, looksLikeApiKey } from "./api-keys.ts";

interface CachedKey {
  org: AppEnv["Variables"]["ingestOrg"] | null;
  expiresAt: number;
}
/** Ingestion is the hot path: a key is looked up once a minute, not on every request. */
const cacheTtlMs = 60_000;
const cache = new Map<string, CachedKey>();

export const apiKeyAuth = createMiddleware<AppEnv>(async (c, next) => {
  const header = c.req.header("authorization") ?? "";
  const match = /^Bearer\s+(\S+)$/i.exec(header);
  if (!match?.[1]) {
    throw new ApiError("unauthorized", "missing Authorization: Bearer <api key>");
  }
  const key = match[1];
  if (!looksLikeApiKey(key)) throw new ApiError("unauthorized", "invalid API key");
  const hash = hashApiKey(key);
  const cacheKey = hash.toString("base64");
  let cached = cache.get(cacheKey);
  if (!cached || cached.expiresAt < Date.now()) {
    const found = await findOrgByApiKeyHash(c.var.services.db, hash);
    cached = {
      org: found
        ? { id: found.org.id, slug: found.org.slug, plan: found.org.plan, keyId: found.keyId }
        : null,
      expiresAt: Date.now() + cacheTtlMs,
    };
    if (cache.size > 10_000) cache.clear();
    cache.set(cacheKey, cached);
  }
  if (!cached.org) throw new ApiError("unauthorized", "invalid API key");
  c.set("ingestOrg", cached.org);
  await next();
});
