import { anonymizeIp, loadWorkerEnv, openGeolocator } from "@auditlog/worker";
import {
  type EntryTemplate,
  type EventFactory,
  eventFactory,
  toTemplate,
  wordWithShare,
} from "./data.ts";

/** Bump when the seeded data's shape changes: seeded organisations of another version are rebuilt. */
export const dataVersion = 1;

export interface StoredIp {
  ip: string;
  countryCode: string | null;
  region: string | null;
  city: string | null;
}

export interface RowPool {
  factory: EventFactory;
  templates: EntryTemplate[];
  ips: StoredIp[];
  /** A word in ≈ 1% of descriptions, for the free-text query. */
  textWord: string;
  textWordShare: number;
}

let cached: RowPool | undefined;

/**
 * A deterministic pool of stored entries (validated, described, geolocated and truncated exactly
 * as the worker does) that the COPY baseline and the seeding combine into millions of rows.
 */
export function rowPool(templateCount = 20_000, ipCount = 4_000): RowPool {
  if (cached) return cached;
  const factory = eventFactory(42);
  const templates = Array.from({ length: templateCount }, () => toTemplate(factory.event()));
  const env = loadWorkerEnv({});
  const geolocator = openGeolocator({
    ipv4: env.GEOIP_IPV4_DATABASE,
    ipv6: env.GEOIP_IPV6_DATABASE,
  });
  const ips: StoredIp[] = Array.from({ length: ipCount }, () => {
    const full = factory.ip();
    const location = geolocator.locate(full);
    return {
      ip: anonymizeIp(full) ?? full,
      countryCode: location?.countryCode ?? null,
      region: location?.region ?? null,
      city: location?.city ?? null,
    };
  });
  const descriptions = templates.map((t) => t.description);
  const textWord = wordWithShare(descriptions, 0.01);
  const textWordShare =
    descriptions.filter((d) => d.toLowerCase().includes(textWord)).length / descriptions.length;
  cached = { factory, templates, ips, textWord, textWordShare };
  return cached;
}

/** One value in PostgreSQL's COPY text format. */
export function copyValue(value: string | boolean | null | undefined): string {
  if (value === null || value === undefined) return "\\N";
  if (typeof value === "boolean") return value ? "t" : "f";
  return value.replace(/[\\\t\n\r]/g, (c) =>
    c === "\\" ? "\\\\" : c === "\t" ? "\\t" : c === "\n" ? "\\n" : "\\r",
  );
}

/** The columns the worker writes (stored_at is left to its default, as the worker does). */
export const entryColumns = [
  "org_id",
  "id",
  "type",
  "category",
  "hidden_by_default",
  "occurred_at",
  "received_at",
  "actor_type",
  "actor_id",
  "actor_name",
  "actor_avatar_url",
  "actor_token_role",
  "actor_token_last4",
  "target_type",
  "target_id",
  "target_name",
  "description",
  "ip",
  "country_code",
  "region",
  "city",
  "user_agent",
  "oauth_client_id",
  "oauth_name",
  "data",
] as const;

/** One COPY line of a stored entry, from a template and an address of the pool. */
export function copyLine(
  orgId: string,
  id: string,
  occurredAt: Date,
  template: EntryTemplate,
  ip: StoredIp,
): string {
  const time = occurredAt.toISOString();
  return `${[
    copyValue(orgId),
    copyValue(id),
    copyValue(template.type),
    copyValue(template.category),
    copyValue(template.hiddenByDefault),
    time,
    time,
    copyValue(template.actorType),
    copyValue(template.actorId),
    copyValue(template.actorName),
    copyValue(template.actorAvatarUrl),
    copyValue(template.actorTokenRole),
    copyValue(template.actorTokenLast4),
    copyValue(template.targetType),
    copyValue(template.targetId),
    copyValue(template.targetName),
    copyValue(template.description),
    copyValue(ip.ip),
    copyValue(ip.countryCode),
    copyValue(ip.region),
    copyValue(ip.city),
    copyValue(template.userAgent),
    "\\N",
    "\\N",
    copyValue(JSON.stringify(template.data ?? {})),
  ].join("\t")}\n`;
}
