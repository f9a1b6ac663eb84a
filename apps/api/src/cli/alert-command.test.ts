import { describe, expect, it } from "vitest";
import { alertBodyFromFlags, describeAlertRule } from "./alert-command.ts";
import { CliFlagError } from "./cli-flag-error.ts";

describe("alerts create flags", () => {
  it("makes the API's create body, channels from the flags, defaults as the API's", () => {
    expect(alertBodyFromFlags({ name: "Role changes", q: "type:org.change_role" })).toEqual({
      name: "Role changes",
      q: "type:org.change_role",
      channels: { console: true, email: false, webhook: false },
      groupWindowSeconds: 300,
      enabled: true,
    });
    expect(
      alertBodyFromFlags(
        {
          name: "SSO",
          q: "type:org.sso.*",
          "no-console": true,
          "notify-email": true,
          "notify-webhook": true,
          "slack-url-stdin": true,
          "group-window": "0",
        },
        () => "https://hooks.slack.com/services/T/B/x\n",
      ),
    ).toMatchObject({
      channels: {
        console: false,
        email: true,
        webhook: true,
        slackUrl: "https://hooks.slack.com/services/T/B/x",
      },
      groupWindowSeconds: 0,
    });
  });

  it("names the flag of each mistake", () => {
    const message = (flags: Parameters<typeof alertBodyFromFlags>[0]) => {
      try {
        alertBodyFromFlags(flags, () => `https://hooks.slack.com/${"x".repeat(2000)}`);
      } catch (error) {
        expect(error).toBeInstanceOf(CliFlagError);
        return (error as Error).message;
      }
      throw new Error("accepted");
    };
    expect(message({ q: "x" })).toBe("missing --name");
    expect(message({ name: "x" })).toMatch(/^missing --q/);
    expect(message({ name: "x", q: "y", "group-window": "soon" })).toMatch(/^--group-window /);
    expect(message({ name: "x", q: "y", "group-window": "90000" })).toMatch(/^--group-window /);
    expect(message({ name: "x".repeat(101), q: "y" })).toMatch(/^--name /);
    expect(message({ name: "x", q: "y", "slack-url-stdin": true })).toMatch(
      /^--slack-url-file or --slack-url-stdin must be at most 2,000 characters$/,
    );
  });

  it("describes a rule with the Slack URL only as its hint", () => {
    const line = describeAlertRule({
      id: "alr_1",
      name: "Role changes",
      q: "type:org.change_role",
      enabled: true,
      channels: { console: true, email: false, webhook: true, slackUrlHint: "ab12" },
      groupWindowSeconds: 300,
      lastFiredAt: null,
      createdAt: "2026-12-02T00:00:00.000Z",
      updatedAt: "2026-12-02T00:00:00.000Z",
    });
    expect(line).toContain("to console, webhook, slack …ab12");
    expect(line).toContain("never fired");
  });
});
