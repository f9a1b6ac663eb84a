import { describe, expect, it } from "vitest";
import { loadWorkerEnv } from "../env.ts";
import { noGeolocation, openGeolocator } from "./geolocate.ts";

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
