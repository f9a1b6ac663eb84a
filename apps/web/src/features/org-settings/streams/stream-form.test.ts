import { createStreamSchema } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { matchRoute, orgSettingsPath } from "../../../lib/router.ts";
import { destinationBody, destinationFields } from "./stream-fields.ts";
import { destinationSummary, formatLag, formatLagTime } from "./stream-format.ts";

describe("the create form's destination", () => {
  it("sends the type and the fields given, trimmed, secrets as typed, empty ones left out", () => {
    expect(
      destinationBody("splunk", {
        url: "  https://splunk.example.com:8088 ",
        token: " secret with spaces ",
        index: "",
      }),
    ).toEqual({
      type: "splunk",
      url: "https://splunk.example.com:8088",
      token: " secret with spaces ",
    });
    expect(destinationBody("s3", { bucket: "b-1", forcePathStyle: false })).toEqual({
      type: "s3",
      bucket: "b-1",
    });
    expect(destinationBody("s3", { forcePathStyle: true })).toMatchObject({ forcePathStyle: true });
    // A value of a field the type does not have is not sent (the API refuses unknown keys).
    expect(destinationBody("datadog", { url: "https://x.example.com", apiKey: "k" })).toEqual({
      type: "datadog",
      apiKey: "k",
    });
  });

  it("asks, for each type, only what the API accepts, with every secret as a password field", () => {
    const secretOf = {
      https: "signingSecret",
      splunk: "token",
      datadog: "apiKey",
      s3: "secretAccessKey",
    };
    for (const [type, fields] of Object.entries(destinationFields)) {
      const secrets = fields.filter((field) => field.kind === "secret").map((field) => field.name);
      expect(secrets).toEqual([secretOf[type as keyof typeof secretOf]]);
      const values = Object.fromEntries(
        fields.map((field) => [
          field.name,
          field.kind === "checkbox"
            ? true
            : field.kind === "url"
              ? "https://a.example.com"
              : "abcdefgh-1",
        ]),
      );
      const body = destinationBody(type as keyof typeof destinationFields, values);
      const parsed = createStreamSchema.safeParse({ name: "n", destination: body });
      expect(parsed.success, `${type}: ${JSON.stringify(parsed.error?.issues)}`).toBe(true);
    }
  });
});

describe("a stream's lag and destination as shown", () => {
  it("reads as entries behind and a time, or caught up", () => {
    expect(formatLag({ entries: 0, seconds: 0 })).toBe("Caught up");
    expect(formatLag({ entries: 1, seconds: 12.4 })).toBe("1 entry behind (12 s)");
    expect(formatLag({ entries: 12_345, seconds: 7200 })).toBe("12,345 entries behind (2 h)");
    expect(formatLagTime(300)).toBe("5 min");
    expect(formatLagTime(3 * 86_400)).toBe("3 days");
    expect(
      destinationSummary({
        type: "s3",
        bucket: "audit",
        prefix: "al",
        region: "us-east-1",
        forcePathStyle: false,
        accessKeyId: "A",
      }),
    ).toBe("s3://audit/al");
  });

  it("has its settings page at /orgs/<slug>/settings/streams", () => {
    expect(orgSettingsPath("acme", "streams")).toBe("/orgs/acme/settings/streams");
    expect(matchRoute("/orgs/acme/settings/streams")).toEqual({
      name: "org-settings",
      orgSlug: "acme",
      section: "streams",
    });
    expect(matchRoute("/orgs/acme/settings/streams/x")).toEqual({ name: "not-found" });
  });
});
