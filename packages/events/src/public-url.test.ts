import { describe, expect, it } from "vitest";
import { isPublicHttpsUrl, publicHttpsUrlProblem } from "./public-url.ts";

describe("publicHttpsUrlProblem", () => {
  it.each([
    ["javascript:alert(1)", "must be an https URL"],
    ["data:image/png;base64,AAAA", "must be an https URL"],
    ["file:///etc/passwd", "must be an https URL"],
    ["http://example.com/a.png", "must be an https URL"],
    ["//example.com/a.png", "must be an https URL"],
    ["https://user@example.com/a.png", "must not carry a user name or password"],
    ["https://127.0.0.1/", "must name its host, not an IP address"],
    ["https://127.1/", "must name its host, not an IP address"],
    ["https://017700000001/", "must name its host, not an IP address"],
    ["https://169.254.169.254./latest", "must name its host, not an IP address"],
    ["https://[fe80::1]/", "must name its host, not an IP address"],
    ["https://[64:ff9b::a00:1]/", "must name its host, not an IP address"],
    ["https://metadata/", "must name a public host (a single-label name is not one)"],
    ["https://LOCALHOST/", "must name a public host (.localhost names are private)"],
    ["https://router.home.arpa/", "must name a public host (.home.arpa names are private)"],
    ["https://db.internal./", "must name a public host (.internal names are private)"],
  ])("refuses %s", (url, problem) => {
    expect(publicHttpsUrlProblem(url)).toBe(problem);
    expect(isPublicHttpsUrl(url)).toBe(false);
  });

  it.each([
    "https://example.com/a.png",
    "https://avatars.githubusercontent.com/u/1?v=4",
    "https://example.com./a.png",
    "https://xn--bcher-kva.example/a.png",
    "https://localhost.example.com/a.png",
  ])("accepts %s", (url) => {
    expect(publicHttpsUrlProblem(url)).toBeUndefined();
    expect(isPublicHttpsUrl(url)).toBe(true);
  });
});
