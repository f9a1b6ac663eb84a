import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../env.ts";
import { boundedRecordCache, noGeolocation, openGeolocator } from "./geolocate.ts";
import { ipv4Number } from "./mmdb-tree.ts";

describe("openGeolocator with the bundled DB-IP Lite databases", () => {
  const env = loadWorkerEnv({});
  const geolocator = openGeolocator({
    ipv4: env.GEOIP_IPV4_DATABASE,
    ipv6: env.GEOIP_IPV6_DATABASE,
  });

  it("locates IPv4, IPv6 and IPv4-mapped addresses", () => {
    expect(geolocator.locate("81.2.69.160")).toMatchObject({ countryCode: "GB" });
    expect(geolocator.locate("::ffff:8.8.8.8")).toMatchObject({ countryCode: "US" });
    expect(geolocator.locate("2001:4860:4860::8888")?.countryCode).toMatch(/^[A-Z]{2}$/);
  });

  it("answers null for private or unknown addresses", () => {
    expect(geolocator.locate("10.1.2.3")).toBeNull();
    expect(noGeolocation.locate("81.2.69.160")).toBeNull();
  });

  it("can be turned off by configuration", () => {
    const off = openGeolocator({ ipv4: "", ipv6: "" });
    expect(off.locate("81.2.69.160")).toBeNull();
  });
});

describe("the geolocation record cache", () => {
  const env = loadWorkerEnv({});
  const paths = { ipv4: env.GEOIP_IPV4_DATABASE, ipv6: env.GEOIP_IPV6_DATABASE };

  it("answers exactly what an uncached lookup does, also after evictions", () => {
    const uncached = openGeolocator(paths, { cacheEntries: 0 });
    const tiny = openGeolocator(paths, { cacheEntries: 3 });
    const addresses = [
      "81.2.69.160",
      "81.2.69.161",
      "8.8.8.8",
      "1.1.1.1",
      "2001:4860:4860::8888",
      "::ffff:8.8.4.4",
      "185.199.108.153",
      "10.0.0.1",
    ];
    const expected = addresses.map((ip) => uncached.locate(ip));
    expect(expected.filter(Boolean).length).toBeGreaterThan(4);
    for (let round = 0; round < 3; round++) {
      expect(addresses.map((ip) => tiny.locate(ip))).toEqual(expected);
    }
  });

  it("keeps at most its bound, dropping the oldest record first", () => {
    const cache = boundedRecordCache(2);
    cache.set(1, "a");
    cache.set(2, "b");
    cache.set(3, "c");
    expect(cache.size).toBe(2);
    expect(cache.get(1)).toBeUndefined();
    expect([cache.get(2), cache.get(3)]).toEqual(["b", "c"]);
  });
});

describe("the IPv4 tree walk", () => {
  const env = loadWorkerEnv({});
  const paths = { ipv4: env.GEOIP_IPV4_DATABASE, ipv6: env.GEOIP_IPV6_DATABASE };

  it("answers what mmdb-lib's lookup does for any IPv4 address, plain or mapped", () => {
    const reference = openGeolocator(paths, { treeWalk: false });
    const walked = openGeolocator(paths);
    // A seeded generator (the same addresses every run): random ones over the whole space,
    // each /16's first and last (where the table's entries start and end), and the extremes.
    let seed = 21;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed;
    };
    const dotted = (n: number) => [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join(".");
    const addresses = ["0.0.0.0", "255.255.255.255", "81.2.69.160", "10.1.2.3", "127.0.0.1"];
    for (let i = 0; i < 20_000; i++) addresses.push(dotted(next()));
    for (let high = 0; high < 65536; high += 97) {
      addresses.push(dotted(high * 65536), dotted(high * 65536 + 65535));
    }
    let located = 0;
    for (const address of addresses) {
      const expected = reference.locate(address);
      if (expected) located++;
      expect(walked.locate(address)).toEqual(expected);
      expect(walked.locate(`::ffff:${address}`)).toEqual(expected);
    }
    // Most of the space is somewhere: the comparison is not one of nulls.
    expect(located).toBeGreaterThan(addresses.length / 2);
  });

  it("answers what mmdb-lib's lookup does for any IPv6 address, however written", () => {
    const reference = openGeolocator(paths, { treeWalk: false });
    const walked = openGeolocator(paths);
    let seed = 6;
    const next = () => {
      seed = (seed * 1103515245 + 12345) >>> 0;
      return seed >>> 16;
    };
    const prefixes = [0x2001, 0x2a00, 0x2a03, 0x2406, 0x2600, 0x2a01, 0x2c0f, 0x2400, 0x2800];
    const addresses = ["::", "::1", "fe80::1%eth0", "2001:DB8::1", "64:ff9b::1.2.3.4", "ffff::"];
    for (let i = 0; i < 20_000; i++) {
      const groups = Array.from({ length: 8 }, () => next());
      // Mostly where the database has networks, some anywhere.
      if (i % 4 !== 0) groups[0] = prefixes[i % prefixes.length] as number;
      if (i % 3 === 0) groups.fill(0, 3 + (i % 5));
      const text = groups.map((g) => g.toString(16)).join(":");
      // Full, compressed (`::`) and upper-case forms of the same address.
      addresses.push(text, text.replace(/(^|:)0(:0)+(:|$)/, "::"), text.toUpperCase());
    }
    for (let high = 0; high < 65536; high += 131) addresses.push(`${high.toString(16)}::`);
    let located = 0;
    for (const address of addresses) {
      const expected = reference.locate(address);
      if (expected) located++;
      expect(walked.locate(address)).toEqual(expected);
    }
    expect(located).toBeGreaterThan(addresses.length / 3);
  });

  it("reads addresses as numbers", () => {
    expect(ipv4Number("0.0.0.0")).toBe(0);
    expect(ipv4Number("255.255.255.255")).toBe(4294967295);
    expect(ipv4Number("81.2.69.160")).toBe(((81 * 256 + 2) * 256 + 69) * 256 + 160);
  });
});
