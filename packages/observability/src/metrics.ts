import { createHash, timingSafeEqual } from "node:crypto";
import { mappedIpv4Octets, parseIp } from "@auditlog/events/ip";
import { collectDefaultMetrics, Registry } from "prom-client";
import { z } from "zod";

export { Counter, Gauge, Histogram, type Registry } from "prom-client";

/** A registry with the process's own figures (CPU, memory, event-loop lag, handles). */
export function createMetricsRegistry(service: string): Registry {
  const registry = new Registry();
  registry.setDefaultLabels({ service });
  collectDefaultMetrics({ register: registry });
  return registry;
}

/** An address range (`10.0.0.0/8`, `::1/128`, or one address), as bits to compare. */
interface AddressRange {
  family: 4 | 6;
  network: bigint;
  bits: number;
}

function addressBits(text: string): { family: 4 | 6; value: bigint } | null {
  const address = parseIp(text);
  if (!address) return null;
  // A dual-stack socket reports IPv4 peers as ::ffff:a.b.c.d: judged as the IPv4 address.
  const octets = address.family === 4 ? address.octets : mappedIpv4Octets(address);
  if (octets) {
    return { family: 4, value: octets.reduce((acc, octet) => (acc << 8n) | BigInt(octet), 0n) };
  }
  const groups = (address as { groups: number[] }).groups;
  return { family: 6, value: groups.reduce((acc, group) => (acc << 16n) | BigInt(group), 0n) };
}

function parseRange(text: string): AddressRange | null {
  const [base = "", prefix] = text.split("/");
  const address = addressBits(base.trim());
  if (!address) return null;
  const width = address.family === 4 ? 32 : 128;
  const bits = prefix === undefined ? width : Number(prefix);
  if (!Number.isInteger(bits) || bits < 0 || bits > width || (prefix ?? "0").trim() === "") {
    return null;
  }
  const shift = BigInt(width - bits);
  return { family: address.family, network: (address.value >> shift) << shift, bits };
}

function inRange(range: AddressRange, address: { family: 4 | 6; value: bigint }): boolean {
  if (range.family !== address.family) return false;
  const shift = BigInt((range.family === 4 ? 32 : 128) - range.bits);
  return (address.value >> shift) << shift === range.network;
}

/**
 * Who may read `/metrics`. Both unset: nobody (the route answers 404): the figures name
 * organisations' activity and the deployment's shape, so they are never open by default.
 */
export const metricsEnv = {
  /** `false` turns the request and ingest metrics off (and `/metrics` answers 404). */
  METRICS: z
    .enum(["true", "false", "1", "0"])
    .default("true")
    .transform((value) => value === "true" || value === "1"),
  /** A scraper must send `Authorization: Bearer <METRICS_TOKEN>` when it is set. */
  METRICS_TOKEN: z
    .string()
    .refine((value) => value === "" || value.length >= 16, "must be at least 16 characters")
    .default(""),
  /**
   * Comma-separated address ranges (`10.0.0.0/8,127.0.0.1`) a scraper must connect from when
   * set: the connecting peer's address, never a forwarded-for header.
   */
  METRICS_ALLOW_CIDRS: z
    .string()
    .default("")
    .refine(
      (value) =>
        value
          .split(",")
          .map((part) => part.trim())
          .filter(Boolean)
          .every((part) => parseRange(part) !== null),
      "must be comma-separated addresses or ranges like 10.0.0.0/8 or ::1/128",
    ),
};

export type MetricsAccessSettings = {
  METRICS: boolean;
  METRICS_TOKEN: string;
  METRICS_ALLOW_CIDRS: string;
};

/** `allowed`, or why not: `disabled` (404), `unauthorized` (401), `forbidden` (403). */
export type MetricsAccess = "allowed" | "disabled" | "unauthorized" | "forbidden";

const digest = (text: string) => createHash("sha256").update(text).digest();

/**
 * The one rule for both apps: with a token, the request must carry it; with ranges, the peer must
 * be inside one; with both, both; with neither (or METRICS=false), the route is not there.
 */
export function metricsAccessRule(settings: MetricsAccessSettings) {
  const ranges = settings.METRICS_ALLOW_CIDRS.split(",")
    .map((part) => part.trim())
    .filter(Boolean)
    .map((part) => parseRange(part) as AddressRange);
  const expected = settings.METRICS_TOKEN ? digest(settings.METRICS_TOKEN) : null;
  return (request: { authorization?: string | undefined; peer?: string | undefined }) => {
    if (!settings.METRICS || (expected === null && ranges.length === 0)) return "disabled";
    if (ranges.length > 0) {
      const peer = request.peer ? addressBits(request.peer) : null;
      if (!peer || !ranges.some((range) => inRange(range, peer))) return "forbidden";
    }
    if (expected) {
      const match = /^Bearer (.+)$/.exec(request.authorization ?? "");
      // Compared as digests: equal lengths, and the time taken says nothing about the token.
      if (!match || !timingSafeEqual(digest(match[1] as string), expected)) return "unauthorized";
    }
    return "allowed";
  };
}
