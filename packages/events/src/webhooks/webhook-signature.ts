import { createHmac } from "node:crypto";

/** Secrets look like `whsec_<base64 of the key bytes>` (Standard Webhooks). */
export const webhookSecretPrefix = "whsec_";

export function webhookSecretBytes(secret: string): Buffer {
  if (!secret.startsWith(webhookSecretPrefix)) {
    throw new Error(`webhook secret must start with ${webhookSecretPrefix}`);
  }
  return Buffer.from(secret.slice(webhookSecretPrefix.length), "base64");
}

/**
 * The `webhook-signature` header value: `v1,` and the base64 HMAC-SHA256, keyed with the secret's
 * bytes, of `${id}.${timestamp}.${body}` (timestamp in unix seconds, body exactly as sent).
 */
export function signWebhook(input: {
  secret: string;
  id: string;
  timestamp: number;
  /** The exact bytes sent (a string is signed as UTF-8; pieces as the body they make). */
  body: string | Buffer | readonly Buffer[];
}): string {
  // Updates, not one concatenated string: a large body (a stream's batch) is hashed as it is,
  // without being copied into a new string first.
  const mac = createHmac("sha256", webhookSecretBytes(input.secret)).update(
    `${input.id}.${input.timestamp}.`,
  );
  if (typeof input.body === "string" || Buffer.isBuffer(input.body)) mac.update(input.body);
  else for (const piece of input.body) mac.update(piece);
  return `v1,${mac.digest("base64")}`;
}
