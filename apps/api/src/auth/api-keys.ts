import { createHash, randomBytes } from "node:crypto";

/** Ingestion keys: `alk_` + 43 characters of base64url (256 random bits). */
const keyPrefix = "alk_";

export function generateApiKey(): { key: string; prefix: string; hash: Buffer } {
  const key = `${keyPrefix}${randomBytes(32).toString("base64url")}`;
  return { key, prefix: key.slice(0, keyPrefix.length + 6), hash: hashApiKey(key) };
}

export function hashApiKey(key: string): Buffer {
  return createHash("sha256").update(key).digest();
}

export function looksLikeApiKey(value: string): boolean {
  return value.startsWith(keyPrefix) && value.length === keyPrefix.length + 43;
}
