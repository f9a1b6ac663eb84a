import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { writtenIpv6 } from "../../test/support/ip-arbitraries.ts";
import { formatIpv6, parseIp } from "./index.ts";

/** What the WHATWG URL parser (Node's `URL`) prints for an IPv6 host. */
function urlCanonical(text: string): string {
  return new URL(`http://[${text}]/`).hostname.slice(1, -1);
}

function groupsOf(text: string): number[] {
  const address = parseIp(text);
  if (address?.family !== 6) throw new Error(`${text} is not an IPv6 address`);
  return address.groups;
}

describe("formatIpv6", () => {
  it.each([
    // RFC 5952 §4.1: leading zeros suppressed.
    ["2001:0db8::0001", "2001:db8::1"],
    ["2001:db8:aaaa:bbbb:cccc:dddd:eeee:0001", "2001:db8:aaaa:bbbb:cccc:dddd:eeee:1"],
    // §4.2.1: `::` shortens as much as possible.
    ["2001:db8:0:0:0:0:2:1", "2001:db8::2:1"],
    ["2001:db8::0:1", "2001:db8::1"],
    // §4.2.2: a single zero group is not compressed.
    ["2001:db8:0:1:1:1:1:1", "2001:db8:0:1:1:1:1:1"],
    // §4.2.3: the longest run is compressed, the first one on a tie.
    ["2001:0:0:1:0:0:0:1", "2001:0:0:1::1"],
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    // §4.3: lower case.
    ["2001:DB8::AAAA", "2001:db8::aaaa"],
    // §2's many spellings of one address.
    ["2001:db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8:0:0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8::0:1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:0db8::1:0:0:1", "2001:db8::1:0:0:1"],
    ["2001:db8:0:0:1::1", "2001:db8::1:0:0:1"],
    ["2001:db8:0000:0:1::1", "2001:db8::1:0:0:1"],
    ["2001:DB8:0:0:1::1", "2001:db8::1:0:0:1"],
    // RFC 4291 §2.2's addresses.
    ["2001:DB8:0:0:8:800:200C:417A", "2001:db8::8:800:200c:417a"],
    ["FF01:0:0:0:0:0:0:101", "ff01::101"],
    ["0:0:0:0:0:0:0:1", "::1"],
    ["0:0:0:0:0:0:0:0", "::"],
    ["1:0:0:0:0:0:0:0", "1::"],
    ["1:0:1:1:1:1:1:1", "1:0:1:1:1:1:1:1"],
    // Mapped addresses in hex, as the URL parser writes them.
    ["::FFFF:129.144.52.38", "::ffff:8190:3426"],
  ])("%s → %s", (text, canonical) => {
    expect(formatIpv6(groupsOf(text))).toBe(canonical);
    expect(urlCanonical(text)).toBe(canonical);
  });

  it("prints what Node's URL parser prints, for any spelling of any address", () => {
    fc.assert(
      fc.property(writtenIpv6, ({ text }) => {
        const bare = text.split("%")[0] as string;
        const formatted = formatIpv6(groupsOf(text));
        expect(formatted).toBe(urlCanonical(bare));
        expect(urlCanonical(formatted)).toBe(formatted);
        expect(groupsOf(formatted)).toStrictEqual(groupsOf(text));
      }),
      { numRuns: 3000 },
    );
  });

  it("refuses anything but eight groups", () => {
    expect(() => formatIpv6([1, 2, 3])).toThrow(RangeError);
  });
});
