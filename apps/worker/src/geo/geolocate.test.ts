import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../env.ts";
import { boundedRecordCache, noGeolocation, openGeolocator } from "./geolocate.ts";

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
