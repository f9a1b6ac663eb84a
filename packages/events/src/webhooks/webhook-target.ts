import { lookup } from "node:dns/promises";
import { z } from "zod";
import { isLinkLocalOrMetadataAddress, isNonPublicAddress, parseIp } from "../ip/index.ts";

/**
 * Where an organisation's webhook may point: the API checks a URL when an admin sets it, and the
 * worker checks it again, with the addresses its host resolves to, before every delivery, so a
 * URL stored under an older rule or a name whose DNS answer changed (rebinding) is refused too.
 */

/** The one setting that relaxes the rule; the API and the worker must agree on it. */
export const webhookEnv = {
  /**
   * Accept webhooks to this machine and private networks: http://localhost and http://127.0.0.1,
   * https to loopback, private or unique-local addresses. Off by default: an organisation admin
   * could otherwise make the worker POST to Redis, PostgreSQL or an internal service. Turn it on
   * on a development machine (and in tests that deliver to a local receiver). Link-local and
   * cloud metadata addresses stay refused either way.
   */
  WEBHOOK_ALLOW_LOCAL_URLS: z
    .enum(["true", "false", "1", "0"])
    .default("false")
    .transform((value) => value === "true" || value === "1"),
};

export const maxWebhookUrlLength = 2000;

/** One answer of a name lookup, as `dns.promises.lookup(name, { all: true })` gives it. */
export interface ResolvedAddress {
  address: string;
  family: number;
}

/** Resolves a host name to every address it has (injected, so tests need no DNS). */
export type HostLookup = (hostname: string) => Promise<ResolvedAddress[]>;

/** The machine's resolver: every address of a name, in the order the system prefers them. */
export const systemHostLookup: HostLookup = (hostname) =>
  lookup(hostname, { all: true, verbatim: true });

export interface WebhookTargetRule {
  /** WEBHOOK_ALLOW_LOCAL_URLS. */
  allowLocal: boolean;
}

const loopbackNames = new Set(["localhost", "127.0.0.1", "[::1]"]);

function isLocalName(hostname: string): boolean {
  return hostname === "localhost" || hostname.endsWith(".localhost");
}

/** The address a URL's host names literally (`10.0.0.1`, `[::1]`), or null for a name. */
function literalAddress(hostname: string) {
  return parseIp(hostname.startsWith("[") ? hostname.slice(1, -1) : hostname);
}

/** Why `address` may not receive webhooks under `rule`, or null when it may. */
export function refuseWebhookAddress(address: string, rule: WebhookTargetRule): string | null {
  const parsed = parseIp(address);
  if (!parsed) return "must point to a valid address";
  if (isLinkLocalOrMetadataAddress(parsed)) {
    return "must not point to a link-local or cloud metadata address";
  }
  if (!rule.allowLocal && isNonPublicAddress(parsed)) {
    return "must not point to a loopback, private or other non-public address";
  }
  return null;
}

/**
 * Checks a webhook URL as written, without DNS: absolute https (http only for localhost,
 * 127.0.0.1 and [::1] when local URLs are allowed), no credentials or fragment, and an address
 * literal that `refuseWebhookAddress` accepts. Returns the normalised URL, or why not.
 */
export function validateWebhookUrl(
  raw: string,
  rule: WebhookTargetRule,
): { ok: true; url: URL } | { ok: false; message: string } {
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
  const hostname = url.hostname.toLowerCase();
  if (url.protocol === "http:" && !(rule.allowLocal && loopbackNames.has(hostname))) {
    return {
      ok: false,
      message: rule.allowLocal
        ? "must use https (plain http is accepted only for localhost, 127.0.0.1 and [::1])"
        : "must use https",
    };
  }
  const literal = literalAddress(hostname);
  if (literal) {
    const refused = refuseWebhookAddress(hostname.replace(/^\[|\]$/g, ""), rule);
    if (refused) return { ok: false, message: refused };
  } else if (isLocalName(hostname) && !rule.allowLocal) {
    return {
      ok: false,
      message: "must not point to a loopback, private or other non-public address",
    };
  }
  return { ok: true, url };
}

export type WebhookTarget =
  /** Every address the host has passed: connect to one of exactly these. */
  | { kind: "allowed"; url: URL; host: string; addresses: ResolvedAddress[] }
  /** The URL or one of its addresses is refused: retrying cannot help until the URL changes. */
  | { kind: "refused"; message: string }
  /** The name did not resolve (now): nothing to check, nothing to connect to. */
  | { kind: "unresolved"; url: URL; message: string };

/**
 * Checks a webhook URL and every address its host resolves to, with `lookup` (one question: the
 * answer checked is the answer to connect to). An address literal needs no lookup. Refused when
 * ANY address is refused: a name answering one public and one private address would otherwise
 * reach the private one on some attempts.
 */
export async function resolveWebhookTarget(
  raw: string,
  rule: WebhookTargetRule,
  lookup: HostLookup,
): Promise<WebhookTarget> {
  const checked = validateWebhookUrl(raw, rule);
  if (!checked.ok) return { kind: "refused", message: checked.message };
  const { url } = checked;
  const hostname = url.hostname.toLowerCase();
  if (literalAddress(hostname)) {
    const address = hostname.replace(/^\[|\]$/g, "");
    return {
      kind: "allowed",
      url,
      host: address,
      addresses: [{ address, family: address.includes(":") ? 6 : 4 }],
    };
  }
  let addresses: ResolvedAddress[];
  try {
    addresses = await lookup(hostname);
  } catch (error) {
    const code = (error as { code?: string }).code;
    return {
      kind: "unresolved",
      url,
      message: `${hostname} did not resolve (${code ?? "error"})`,
    };
  }
  if (addresses.length === 0) {
    return { kind: "unresolved", url, message: `${hostname} has no address` };
  }
  for (const { address } of addresses) {
    const refused = refuseWebhookAddress(address, rule);
    // Which address is not said: the answer would map the internal network for the asker.
    if (refused) return { kind: "refused", message: `${refused} (${hostname} resolves to one)` };
  }
  return { kind: "allowed", url, host: hostname, addresses };
}
