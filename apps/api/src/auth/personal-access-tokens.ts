import { createHash, randomBytes } from "node:crypto";

/** Personal access tokens: `alp_` + 43 characters of base64url (256 random bits). */
export const personalAccessTokenPrefix = "alp_";

export function generatePersonalAccessToken(): { token: string; prefix: string; hash: Buffer } {
  const token = `${personalAccessTokenPrefix}${randomBytes(32).toString("base64url")}`;
  return {
    token,
    prefix: token.slice(0, personalAccessTokenPrefix.length + 6),
    hash: hashPersonalAccessToken(token),
  };
}

/** Only this SHA-256 is stored: the token is shown once, when it is created. */
export function hashPersonalAccessToken(token: string): Buffer {
  return createHash("sha256").update(token).digest();
}

export function looksLikePersonalAccessToken(value: string): boolean {
  return (
    value.startsWith(personalAccessTokenPrefix) &&
    /^[A-Za-z0-9_-]{43}$/.test(value.slice(personalAccessTokenPrefix.length))
  );
}
