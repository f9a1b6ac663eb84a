import { type Ipv4Octets, type Ipv6Address, parseIp } from "./parse-ip.ts";

/**
 * The IPv4 address an IPv4-mapped IPv6 address (`::ffff:a.b.c.d`, RFC 4291 §2.5.5.2) carries,
 * or null. A dual-stack socket reports IPv4 peers this way; they are the same host as the IPv4
 * address, so they must be truncated, geolocated and rate-limited as one.
 */
export function mappedIpv4Octets(address: Ipv6Address): Ipv4Octets | null {
  const { groups } = address;
  const isMapped =
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff;
  if (!isMapped) return null;
  const high = groups[6] as number;
  const low = groups[7] as number;
  return [high >>> 8, high & 0xff, low >>> 8, low & 0xff];
}

/** The IPv4 address (dotted decimal) that the IPv4-mapped IPv6 address `text` carries, or null. */
export function toMappedIpv4(text: string): string | null {
  const address = parseIp(text);
  if (address?.family !== 6) return null;
  const octets = mappedIpv4Octets(address);
  return octets ? octets.join(".") : null;
}
