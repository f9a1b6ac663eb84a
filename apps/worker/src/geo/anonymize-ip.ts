import { isIPv4, isIPv6 } from "node:net";

/**
 * Truncates an address the way PRODUCT.md §2 promises: IPv4 to its /24, IPv6 to its /48, and an
 * IPv4-mapped IPv6 address (::ffff:a.b.c.d) as the IPv4 address it carries.
 */
export function anonymizeIp(ip: string): string | null {
  const mapped = toMappedIpv4(ip);
  if (mapped) return truncateIpv4(mapped);
  if (isIPv4(ip)) return truncateIpv4(ip);
  if (isIPv6(ip)) return truncateIpv6(ip);
  return null;
}

/** The IPv4 address an IPv4-mapped IPv6 address carries, or null. */
export function toMappedIpv4(ip: string): string | null {
  if (!isIPv6(ip)) return null;
  const groups = expandIpv6(ip);
  if (!groups) return null;
  const isMapped = groups.slice(0, 5).every((g) => g === 0) && groups[5] === 0xffff;
  if (!isMapped) return null;
  const high = groups[6] ?? 0;
  const low = groups[7] ?? 0;
  return `${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`;
}

function truncateIpv4(ip: string): string {
  const [a, b, c] = ip.split(".");
  return `${Number(a)}.${Number(b)}.${Number(c)}.0`;
}

function truncateIpv6(ip: string): string | null {
  const groups = expandIpv6(ip);
  if (!groups) return null;
  const kept = [...groups.slice(0, 3), 0, 0, 0, 0, 0].map((g) => g.toString(16)).join(":");
  // The WHATWG URL parser prints IPv6 in its canonical compressed form (RFC 5952).
  return new URL(`http://[${kept}]/`).hostname.slice(1, -1);
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
