import { describe, expect, it } from "vitest";
import { z } from "zod";
import { metricsAccessRule, metricsEnv } from "./metrics.ts";

const settings = (values: Record<string, string>) => z.object(metricsEnv).parse(values);
const token = "a-scrape-token-of-some-length";

describe("who may read /metrics", () => {
  it("is nobody when neither a token nor an address range is set", () => {
    const rule = metricsAccessRule(settings({}));
    expect(rule({ peer: "127.0.0.1", authorization: `Bearer ${token}` })).toBe("disabled");
  });

  it("is nobody when METRICS=false, whatever else is set", () => {
    const rule = metricsAccessRule(settings({ METRICS: "false", METRICS_TOKEN: token }));
    expect(rule({ authorization: `Bearer ${token}` })).toBe("disabled");
  });

  it("asks for the exact bearer token when one is set", () => {
    const rule = metricsAccessRule(settings({ METRICS_TOKEN: token }));
    expect(rule({ authorization: `Bearer ${token}` })).toBe("allowed");
    expect(rule({ authorization: `Bearer ${token}x` })).toBe("unauthorized");
    expect(rule({ authorization: token })).toBe("unauthorized");
    expect(rule({})).toBe("unauthorized");
  });

  it("asks for a peer inside a range when ranges are set (IPv4, IPv6, IPv4-mapped)", () => {
    const rule = metricsAccessRule(settings({ METRICS_ALLOW_CIDRS: "10.1.0.0/16, ::1" }));
    expect(rule({ peer: "10.1.255.3" })).toBe("allowed");
    expect(rule({ peer: "::ffff:10.1.2.3" })).toBe("allowed");
    expect(rule({ peer: "::1" })).toBe("allowed");
    expect(rule({ peer: "10.2.0.1" })).toBe("forbidden");
    expect(rule({ peer: "::2" })).toBe("forbidden");
    expect(rule({})).toBe("forbidden");
  });

  it("asks for both when both are set", () => {
    const rule = metricsAccessRule(
      settings({ METRICS_ALLOW_CIDRS: "127.0.0.0/8", METRICS_TOKEN: token }),
    );
    expect(rule({ peer: "127.0.0.1", authorization: `Bearer ${token}` })).toBe("allowed");
    expect(rule({ peer: "127.0.0.1" })).toBe("unauthorized");
    expect(rule({ peer: "192.0.2.1", authorization: `Bearer ${token}` })).toBe("forbidden");
  });

  it("refuses a malformed range or a short token at start", () => {
    expect(() => settings({ METRICS_ALLOW_CIDRS: "10.0.0.0/33" })).toThrow();
    expect(() => settings({ METRICS_ALLOW_CIDRS: "10.0.0.0/" })).toThrow();
    expect(() => settings({ METRICS_ALLOW_CIDRS: "example.com" })).toThrow();
    expect(() => settings({ METRICS_TOKEN: "short" })).toThrow();
  });
});
