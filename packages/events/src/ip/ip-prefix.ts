import { formatIpv6 } from "./format-ip.ts";
import { parseIp } from "./parse-ip.ts";

/**
 * Canonical IP prefix for the query language's `ip:` key, or `undefined` when `value` is not
 * one. Accepted:
 * - a full IPv4 address (`203.0.113.0`), octets in decimal;
 * - 1–3 leading IPv4 octets, with or without a trailing dot; normalised with the dot
 *   (`203.0.113` → `203.0.113.`) so the prefix stops on an octet boundary;
 * - a full IPv6 address, possibly `::`-compressed (`2001:db8::`); normalised to RFC 5952 (lower
 *   case, no leading zeros, the longest run of zero groups compressed);
 * - 1–7 leading IPv6 groups without `::`, with or without a trailing colon; normalised with the
 *   colon (`2001:DB8` → `2001:db8:`).
 *
 * Zone ids and dotted IPv4 tails are refused: stored addresses are truncated, IPv4-mapped ones
 * to IPv4 and zone ids dropped, so a prefix written that way could never match.
 */
export function normalizeIpPrefix(value: string): string | undefined {
  return value.includes(":") ? normalizeIpv6Prefix(value) : normalizeIpv4Prefix(value);
}

/**
 * Octets may have leading zeros here (`010.001.0.255` is `10.1.0.255`), unlike in `parseIp`:
 * people paste zero-padded addresses from logs, and a query means decimal.
 */
function normalizeIpv4Prefix(value: string): string | undefined {
  const partial = value.endsWith(".");
  const parts = (partial ? value.slice(0, -1) : value).split(".");
  if (parts.length > 4 || (partial && parts.length === 4)) return undefined;
  const octets: number[] = [];
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part)) return undefined;
    const octet = Number(part);
    if (octet > 255) return undefined;
    octets.push(octet);
  }
  return octets.length === 4 ? octets.join(".") : `${octets.join(".")}.`;
}

function normalizeIpv6Prefix(value: string): string | undefined {
  if (value.includes("%") || value.includes(".")) return undefined;
  if (value.includes("::")) return formatFullIpv6(value);
  const leading = value.endsWith(":") ? value.slice(0, -1) : value;
  const written = leading.split(":").length;
  if (written === 8 && leading === value) return formatFullIpv6(value);
  if (leading === "" || written > 7) return undefined;
  // Leading groups are an address with the rest left out: read them as `groups::`.
  const address = parseIp(`${leading}::`);
  if (address?.family !== 6) return undefined;
  return `${address.groups
    .slice(0, written)
    .map((group) => group.toString(16))
    .join(":")}:`;
}

function formatFullIpv6(value: string): string | undefined {
  const address = parseIp(value);
  return address?.family === 6 ? formatIpv6(address.groups) : undefined;
}
