import { randomBytes } from "node:crypto";
import { BlockList, isIP } from "node:net";
import { type Database, type OrgWebhookRow, upsertOrgWebhook } from "@auditlog/db";

/** Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the HMAC key). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

export const maxWebhookUrlLength = 2000;

const localHostnames = new Set(["localhost", "127.0.0.1", "[::1]", "::1"]);

/** Loopback, private, link-local, CGNAT and unspecified ranges: not for production webhooks. */
const nonPublic = new BlockList();
for (const [network, prefix] of [
  ["0.0.0.0", 8],
  ["10.0.0.0", 8],
  ["100.64.0.0", 10],
  ["127.0.0.0", 8],
  ["169.254.0.0", 16],
  ["172.16.0.0", 12],
  ["192.168.0.0", 16],
] as const) {
  nonPublic.addSubnet(network, prefix, "ipv4");
}
for (const [network, prefix] of [
  ["::", 128],
  ["::1", 128],
  ["::ffff:0:0", 96],
  ["fc00::", 7],
  ["fe80::", 10],
] as const) {
  nonPublic.addSubnet(network, prefix, "ipv6");
}

function isLocalHost(hostname: string): boolean {
  const host = hostname.toLowerCase();
  if (localHostnames.has(host) || host.endsWith(".localhost")) return true;
  const bare = host.startsWith("[") ? host.slice(1, -1) : host;
  const family = isIP(bare);
  if (family === 4) return nonPublic.check(bare, "ipv4");
  if (family === 6) return nonPublic.check(bare, "ipv6");
  return false;
}

/**
 * Checks an organisation's webhook URL: absolute https (http only for localhost/127.0.0.1 when
 * local URLs are allowed, as in development), no credentials or fragment, and, when local URLs
 * are not allowed, no loopback or private address literal. Returns the normalised URL, or why not.
 */
export function validateWebhookUrl(
  raw: string,
  options: { allowLocal: boolean },
): { ok: true; url: string } | { ok: false; message: string } {
  if (raw.length > maxWebhookUrlLength) {
    return { ok: false, message: `must be at most ${maxWebhookUrlLength} characters` };
  }
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return { ok: false, message: "must be an absolute URL (https://…)" };
  }
  if (url.protocol !== "https:" && url.protocol !== "http:") {
    return { ok: false, message: "must use https" };
  }
  if (url.username || url.password) {
    return { ok: false, message: "must not contain credentials" };
  }
  if (url.hash) return { ok: false, message: "must not contain a #fragment" };
  const local = isLocalHost(url.hostname);
  if (url.protocol === "http:") {
    const loopback = ["localhost", "127.0.0.1", "[::1]"].includes(url.hostname.toLowerCase());
    if (!options.allowLocal || !loopback) {
      return {
        ok: false,
        message: options.allowLocal
          ? "must use https (plain http is accepted only for localhost and 127.0.0.1)"
          : "must use https",
      };
    }
  } else if (local && !options.allowLocal) {
    return { ok: false, message: "must not point to a loopback or private address" };
  }
  return { ok: true, url: url.href };
}

/**
 * Sets an organisation's webhook (from the API or the CLI): the URL is checked, then stored; the
 * signing secret is issued when the webhook is new or `rotateSecret` asks for it. A URL that does
 * not pass answers why, naming nothing else.
 */
export async function setOrgWebhook(
  services: { db: Database; env: { WEBHOOK_ALLOW_LOCAL_URLS: boolean } },
  input: { orgId: string; url: string; rotateSecret: boolean },
): Promise<
  { ok: true; webhook: OrgWebhookRow; secretIssued: boolean } | { ok: false; message: string }
> {
  const checked = validateWebhookUrl(input.url.trim(), {
    allowLocal: services.env.WEBHOOK_ALLOW_LOCAL_URLS,
  });
  if (!checked.ok) return checked;
  const { webhook, secretIssued } = await upsertOrgWebhook(services.db, {
    orgId: input.orgId,
    url: checked.url,
    candidateSecret: generateWebhookSecret(),
    rotateSecret: input.rotateSecret,
  });
  return { ok: true, webhook, secretIssued };
}
