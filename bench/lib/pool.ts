import type { AuditEntryRow } from "@auditlog/db";
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

/** The stored row of one entry, from a template and an address of the pool. */
export function entryRow(
  orgId: string,
  id: string,
  occurredAt: Date,
  template: EntryTemplate,
  ip: StoredIp,
): AuditEntryRow {
  return {
    ...template,
    orgId,
    id,
    occurredAt,
    receivedAt: occurredAt,
    ip: ip.ip,
    countryCode: ip.countryCode,
    region: ip.region,
    city: ip.city,
    oauthClientId: null,
    oauthName: null,
  };
}
