import fc from "fast-check";
import type { IpAddress, Ipv4Octets } from "../../src/ip/index.ts";

/** An address and one of the ways to write it. */
export interface WrittenIp {
  text: string;
  address: IpAddress;
}

const octet = fc.oneof(
  fc.constantFrom(0, 1, 9, 10, 99, 100, 255),
  fc.integer({ min: 0, max: 255 }),
);
const octets: fc.Arbitrary<Ipv4Octets> = fc.tuple(octet, octet, octet, octet);

export const writtenIpv4: fc.Arbitrary<WrittenIp> = octets.map((o) => ({
  text: o.join("."),
  address: { family: 4, octets: o },
}));

/** Zero groups are frequent so that runs of zeros, and so `::`, turn up at every position. */
const group = fc.oneof(
  fc.constant(0),
  fc.constant(0),
  fc.constant(0xffff),
  fc.integer({ min: 0, max: 0xff }),
  fc.integer({ min: 0, max: 0xffff }),
);
const mappedGroups = octets.map(([a, b, c, d]) => [
  0,
  0,
  0,
  0,
  0,
  0xffff,
  (a << 8) | b,
  (c << 8) | d,
]);
/** One group short of mapped: the boundary of ::ffff:0:0/96. */
const nearlyMappedGroups = fc
  .tuple(mappedGroups, fc.integer({ min: 0, max: 5 }), fc.integer({ min: 1, max: 0xfffe }))
  .map(([mapped, at, value]) => mapped.map((g, i) => (i === at ? g ^ value : g)));
const groups = fc.oneof(
  fc.array(group, { minLength: 8, maxLength: 8 }),
  mappedGroups,
  nearlyMappedGroups,
);

/** Node's zone id alphabet. */
export const zoneId = fc.string({
  unit: fc.constantFrom(..."0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-.:"),
  minLength: 1,
  maxLength: 8,
});

/** Every run of consecutive zero groups, as `[start, end)`: each may be the one written `::`. */
function zeroRuns(written: readonly number[]): [number, number][] {
  const runs: [number, number][] = [];
  for (let start = 0; start < 8; start++) {
    for (let end = start + 1; end <= 8 && written[end - 1] === 0; end++) runs.push([start, end]);
  }
  return runs;
}

function writeIpv6(spelling: {
  groups: number[];
  run: number;
  dottedTail: boolean;
  extraZeros: number[];
  upperCaseMasks: number[];
  zone: string | undefined;
}): string {
  const runs = zeroRuns(spelling.groups);
  const gap = runs[spelling.run % (runs.length + 1)];
  const dotted = spelling.dottedTail && (gap === undefined || gap[1] <= 6);
  const hexCount = dotted ? 6 : 8;
  const spell = (i: number) => {
    const hex = (spelling.groups[i] as number).toString(16);
    const padded = hex.padStart(Math.min(4, hex.length + (spelling.extraZeros[i] ?? 0)), "0");
    const mask = spelling.upperCaseMasks[i] ?? 0;
    return [...padded].map((c, bit) => ((mask >> bit) & 1 ? c.toUpperCase() : c)).join("");
  };
  const indexes = (from: number, to: number) =>
    Array.from({ length: Math.max(0, to - from) }, (_, k) => from + k);
  const high = spelling.groups[6] as number;
  const low = spelling.groups[7] as number;
  const tail = dotted ? [`${high >> 8}.${high & 0xff}.${low >> 8}.${low & 0xff}`] : [];
  const text =
    gap === undefined
      ? [...indexes(0, hexCount).map(spell), ...tail].join(":")
      : `${indexes(0, gap[0]).map(spell).join(":")}::${[
          ...indexes(gap[1], hexCount).map(spell),
          ...tail,
        ].join(":")}`;
  return spelling.zone === undefined ? text : `${text}%${spelling.zone}`;
}

/**
 * IPv6 addresses in every form RFC 4291 §2.2 allows and Node accepts: full or with `::` standing
 * for any run of zero groups (not only the longest), mapped, with a dotted IPv4 tail, leading
 * zeros, mixed case and zone ids.
 */
export const writtenIpv6: fc.Arbitrary<WrittenIp> = fc
  .record({
    groups,
    run: fc.nat(),
    dottedTail: fc.boolean(),
    extraZeros: fc.array(fc.integer({ min: 0, max: 3 }), { minLength: 8, maxLength: 8 }),
    upperCaseMasks: fc.array(fc.oneof(fc.constant(0), fc.nat(15)), { minLength: 8, maxLength: 8 }),
    zone: fc.option(zoneId, { nil: undefined, freq: 4 }),
  })
  .map((spelling) => ({
    text: writeIpv6(spelling),
    address:
      spelling.zone === undefined
        ? { family: 6, groups: spelling.groups }
        : { family: 6, groups: spelling.groups, zone: spelling.zone },
  }));

export const writtenIp: fc.Arbitrary<WrittenIp> = fc.oneof(writtenIpv4, writtenIpv6);

/** Characters an address is made of, and a few it must not contain. */
const addressChar = fc.constantFrom(..."0123456789abcdefABCDEF:.%", ..."gG-_ []/\n", "é", "::");

/** Valid addresses with one character inserted, removed or replaced: mostly invalid. */
const mutatedIp = fc
  .tuple(writtenIp, fc.nat(), addressChar, fc.constantFrom("insert", "remove", "replace"))
  .map(([{ text }, at, char, edit]) => {
    const i = at % (text.length + 1);
    if (edit === "insert") return text.slice(0, i) + char + text.slice(i);
    if (edit === "remove") return text.slice(0, i) + text.slice(i + 1);
    return text.slice(0, i) + char + text.slice(i + 1);
  });

/** The classic ways to get an address almost right. */
const corruptedIp = fc.oneof(
  writtenIpv4.map(({ text }) => `${text}%eth0`),
  writtenIpv4.map(({ text }) => text.replace(/(^|\.)(\d)(?=\.|$)/, "$10$2")),
  writtenIpv4.map(({ text }) => `${text}.1`),
  writtenIpv6.map(({ text }) => `${text}:1`),
  writtenIpv6.map(({ text }) => `1:${text}`),
  writtenIpv6.map(({ text }) => text.replace(/[0-9a-f]{1,4}/i, (g) => `0${g.padStart(4, "0")}`)),
  writtenIpv6.map(({ text }) => `${text}%`),
  writtenIpv6.map(({ text }) => `${text.split("%")[0]}%eth_0`),
  writtenIpv6.map(({ text }) => `[${text}]`),
  writtenIpv6.map(({ text }) => ` ${text}`),
  writtenIpv6.map(({ text }) => text.replace(/\.(\d+)$/, ".2$1")),
  writtenIpv6.map(({ text }) => `${text.split("%")[0]}::`),
);

/** Strings that are mostly not addresses, some of them close. */
export const almostIp: fc.Arbitrary<string> = fc.oneof(
  mutatedIp,
  corruptedIp,
  fc.string({ unit: addressChar, maxLength: 24 }),
  fc.string({ maxLength: 12 }),
);
