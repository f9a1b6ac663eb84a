/**
 * The one IP address reader of the project: the worker's anonymiser, the login limiter and the
 * query language all read addresses through here, so they cannot disagree about what an address
 * is. It accepts exactly the strings Node's `net.isIP` accepts (the property tests hold it to
 * that), and it is plain TypeScript so the web console can bundle it.
 */

export type Ipv4Octets = [number, number, number, number];

export interface Ipv4Address {
  family: 4;
  octets: Ipv4Octets;
}

export interface Ipv6Address {
  family: 6;
  /** Eight 16-bit groups, most significant first; a dotted IPv4 tail is read as the last two. */
  groups: number[];
  /** The zone id written after `%` (`fe80::1%eth0`), only when there is one. */
  zone?: string;
}

export type IpAddress = Ipv4Address | Ipv6Address;

const colon = 0x3a;
const dot = 0x2e;
const zero = 0x30;
const nine = 0x39;

/**
 * The address `text` spells, or null. IPv4 is four decimal octets without leading zeros (Node
 * refuses `01.2.3.4`, which other readers take as octal). IPv6 is RFC 4291 §2.2 text: one to
 * four hex digits a group in either case, at most one `::`, an optional dotted IPv4 tail, and an
 * optional zone id of letters, digits, `-`, `.` and `:`. No surrounding space or brackets.
 */
export function parseIp(text: string): IpAddress | null {
  // An IPv4 address has no colon; a zone id may have one, but only an IPv6 address has a zone.
  if (text.indexOf(":") < 0) {
    const value = readIpv4(text, 0, text.length);
    return value < 0 ? null : { family: 4, octets: octetsOf(value) };
  }
  const zoneStart = text.indexOf("%");
  const end = zoneStart < 0 ? text.length : zoneStart;
  const groups = readIpv6Groups(text, end);
  if (!groups) return null;
  if (zoneStart < 0) return { family: 6, groups };
  const zone = text.slice(zoneStart + 1);
  return isZoneId(zone) ? { family: 6, groups, zone } : null;
}

/** The four octets of a 32-bit value. */
function octetsOf(value: number): Ipv4Octets {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff];
}

/**
 * The dotted-decimal IPv4 address in `text[start, end)` as an unsigned 32-bit value, or -1.
 * Numbers instead of arrays: the dotted tail of an IPv6 address is read through here too, on
 * the ingest hot path.
 */
function readIpv4(text: string, start: number, end: number): number {
  let value = 0;
  let i = start;
  for (let part = 0; part < 4; part++) {
    if (part > 0) {
      if (i >= end || text.charCodeAt(i) !== dot) return -1;
      i++;
    }
    const partStart = i;
    let octet = 0;
    while (i < end && i - partStart < 4) {
      const c = text.charCodeAt(i);
      if (c < zero || c > nine) break;
      octet = octet * 10 + (c - zero);
      i++;
    }
    const digits = i - partStart;
    if (digits === 0 || digits > 3 || octet > 255) return -1;
    if (digits > 1 && text.charCodeAt(partStart) === zero) return -1;
    value = value * 256 + octet;
  }
  return i === end ? value : -1;
}

/** The value of a hex digit's character code, or -1. */
function hexDigit(c: number): number {
  if (c >= zero && c <= nine) return c - zero;
  const lower = c | 0x20;
  return lower >= 0x61 && lower <= 0x66 ? lower - 0x57 : -1;
}

/** The eight groups of the IPv6 address in `text[0, end)`, or null. */
function readIpv6Groups(text: string, end: number): number[] | null {
  const written: number[] = [];
  /** Where `::` stands among the written groups, or -1. */
  let gap = -1;
  let i = 0;
  if (text.charCodeAt(0) === colon) {
    if (text.charCodeAt(1) !== colon) return null;
    gap = 0;
    i = 2;
  }
  while (i < end) {
    const groupStart = i;
    let group = 0;
    while (i < end && i - groupStart < 5) {
      const digit = hexDigit(text.charCodeAt(i));
      if (digit < 0) break;
      group = group * 16 + digit;
      i++;
    }
    if (i < end && text.charCodeAt(i) === dot) {
      // A dotted IPv4 tail spells the last 32 bits, so it must end the address; whether it
      // comes after the right number of groups is checked with the count below.
      const tail = readIpv4(text, groupStart, end);
      if (tail < 0) return null;
      written.push(tail >>> 16, tail & 0xffff);
      break;
    }
    const digits = i - groupStart;
    if (digits === 0 || digits > 4) return null;
    written.push(group);
    if (i === end) break;
    if (text.charCodeAt(i) !== colon) return null;
    i++;
    if (i < end && text.charCodeAt(i) === colon) {
      if (gap >= 0) return null;
      gap = written.length;
      i++;
    } else if (i === end) {
      return null;
    }
  }
  if (gap < 0) return written.length === 8 ? written : null;
  // `::` stands for at least one zero group.
  if (written.length > 7) return null;
  const groups = written.slice(0, gap);
  for (let missing = 8 - written.length; missing > 0; missing--) groups.push(0);
  for (let j = gap; j < written.length; j++) groups.push(written[j] as number);
  return groups;
}

/** Node's zone id alphabet: letters, digits, `-`, `.` and `:`, at least one. */
const zoneIdPattern = /^[0-9A-Za-z.:-]+$/;

function isZoneId(zone: string): boolean {
  return zoneIdPattern.test(zone);
}
