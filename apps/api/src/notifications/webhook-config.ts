import { randomBytes } from "node:crypto";
import { type Database, type OrgWebhookRow, upsertOrgWebhook } from "@auditlog/db";
import { type HostLookup, resolveWebhookTarget } from "@auditlog/events/webhooks";

/** Standard Webhooks secret: `whsec_` and the base64 of 32 random bytes (the HMAC key). */
export function generateWebhookSecret(): string {
  return `whsec_${randomBytes(32).toString("base64")}`;
}

/**
 * Sets an organisation's webhook (from the API or the CLI): the URL is checked (the shared rule
 * of @auditlog/events/webhooks, its host resolved with `lookupHost`), then stored; the signing
 * secret is issued when the webhook is new or `rotateSecret` asks for it. A name that does not
 * resolve yet is accepted: the worker checks the URL again, and what it resolves to, at every
 * delivery. A URL that does not pass answers why, naming no resolved address.
 */
export async function setOrgWebhook(
  services: {
    db: Database;
    env: { WEBHOOK_ALLOW_LOCAL_URLS: boolean };
    lookupHost: HostLookup;
  },
  input: { orgId: string; url: string; rotateSecret: boolean },
): Promise<
  { ok: true; webhook: OrgWebhookRow; secretIssued: boolean } | { ok: false; message: string }
> {
  const target = await resolveWebhookTarget(
    input.url.trim(),
    { allowLocal: services.env.WEBHOOK_ALLOW_LOCAL_URLS },
    services.lookupHost,
  );
  if (target.kind === "refused") return { ok: false, message: target.message };
  const { webhook, secretIssued } = await upsertOrgWebhook(services.db, {
    orgId: input.orgId,
    url: target.url.href,
    candidateSecret: generateWebhookSecret(),
    rotateSecret: input.rotateSecret,
  });
  return { ok: true, webhook, secretIssued };
}
