import { isIPv4, isIPv6 } from "node:net";

/**
 * Truncates an address the way PRODUCT.md §2 promises: IPv4 to its /24, IPv6 to its /48, and an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries. Every ingested event
 * with an address comes through here, so each address is recognised and split once.
 */
export function anonymizeIp(ip: string): string | null {
  if (isIPv4(ip)) return truncateIpv4(ip);
  if (!isIPv6(ip)) return null;
  const groups = expandIpv6(ip);
  if (!groups) return null;
  if (isMapped(groups)) return truncateIpv4(mappedIpv4(groups));
  return truncateIpv6(groups);
}

/** The IPv4 address an IPv4-mapped IPv6 address carries, or null. */
export function toMappedIpv4(ip: string): string | null {
  // Cheap test first: a mapped address is written with ffff and often a dotted tail.
  if (!/ffff/i.test(ip) || !isIPv6(ip)) return null;
  const groups = expandIpv6(ip);
  return groups && isMapped(groups) ? mappedIpv4(groups) : null;
}

function isMapped(groups: readonly number[]): boolean {
  return (
    groups[0] === 0 &&
    groups[1] === 0 &&
    groups[2] === 0 &&
    groups[3] === 0 &&
    groups[4] === 0 &&
    groups[5] === 0xffff
  );
}

function mappedIpv4(groups: readonly number[]): string {
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function truncateIpv4(ip: string): string {
  const [a, b, c] = ip.split(".");
  return `${Number(a)}.${Number(b)}.${Number(c)}.0`;
}

/**
 * The /48 in its canonical text (RFC 5952). The five zero groups at the end are the longest run
 * of zeros (the first three groups can hold at most three), so they always become `::`,
 * together with any zero groups just before them; the groups left are written in lower-case hex
 * without leading zeros.
 */
function truncateIpv6(groups: readonly number[]): string {
  let last = 2;
  while (last >= 0 && groups[last] === 0) last--;
  let text = "";
  for (let i = 0; i <= last; i++) text += `${(groups[i] as number).toString(16)}:`;
  return last < 0 ? "::" : `${text}:`;
}

/** The eight 16-bit groups of an IPv6 address (embedded dotted IPv4 tail included). */
function expandIpv6(ip: string): number[] | null {
  let address = ip.split("%")[0] ?? "";
  const dotted = /(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted?.[1]) {
    const [a = 0, b = 0, c = 0, d = 0] = dotted[1].split(".").map(Number);
    address = `${address.slice(0, -dotted[1].length)}${((a << 8) | b).toString(16)}:${((c << 8) | d).toString(16)}`;
  }
  const [head = "", tail] = address.split("::");
  const headGroups = head === "" ? [] : head.split(":");
  const tailGroups = tail === undefined || tail === "" ? [] : tail.split(":");
  const missing = 8 - headGroups.length - tailGroups.length;
  if (tail === undefined ? missing !== 0 : missing < 1) return null;
  const groups = [...headGroups, ...Array<string>(missing).fill("0"), ...tailGroups].map((g) =>
    Number.parseInt(g, 16),
  );
  return groups.every((g) => Number.isInteger(g) && g >= 0 && g <= 0xffff) ? groups : null;
}
