import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { readSecretFlag, refuseSecretsInArgv, refuseSeveralFromStdin } from "./secret-flags.ts";
import { flagRefusal } from "./testing.ts";

const secret = "s3cr3t-value-zyx9";

describe("a secret flag", () => {
  it("is refused as an argument, without repeating it", () => {
    const names = ["client-secret", "token", "api-key", "secret-access-key"];
    for (const name of names) {
      for (const argv of [
        ["x", "create", `--${name}`, secret],
        ["x", "create", `--${name}=${secret}`],
      ]) {
        const message = flagRefusal(() => refuseSecretsInArgv(argv, names));
        expect(message).toBe(
          `--${name} is not accepted: arguments are visible to other users (ps); use --${name}-file <path> or --${name}-stdin`,
        );
        expect(message).not.toContain(secret);
      }
    }
    expect(() =>
      refuseSecretsInArgv(["x", "create", "--token-file", "/x", "--api-key-stdin"], names),
    ).not.toThrow();
  });

  it("is read from a file or stdin, without its trailing newline; errors never hold it", () => {
    const dir = mkdtempSync(join(tmpdir(), "auditlog-secret-flags-"));
    const file = join(dir, "secret");
    writeFileSync(file, `${secret}\n`);
    expect(readSecretFlag("token", { "token-file": file })).toBe(secret);
    expect(readSecretFlag("token", { "token-stdin": true }, () => `${secret}\r\n`)).toBe(secret);
    expect(readSecretFlag("token", { "token-stdin": false })).toBeUndefined();
    expect(readSecretFlag("token", { "api-key-file": file })).toBeUndefined();
    expect(flagRefusal(() => readSecretFlag("token", { "token-file": join(dir, "none") }))).toBe(
      `--token-file ${join(dir, "none")} cannot be read (ENOENT)`,
    );
    writeFileSync(file, "\n");
    expect(flagRefusal(() => readSecretFlag("api-key", { "api-key-file": file }))).toBe(
      "--api-key-file holds no secret",
    );
    expect(flagRefusal(() => readSecretFlag("api-key", { "api-key-stdin": true }, () => ""))).toBe(
      "--api-key-stdin holds no secret",
    );
    expect(
      flagRefusal(() => readSecretFlag("token", { "token-file": file, "token-stdin": true })),
    ).toBe("give either --token-file or --token-stdin, not both");
  });

  it("comes from stdin for at most one secret of a command", () => {
    const names = ["token", "secret-access-key"];
    expect(() => refuseSeveralFromStdin({ "token-stdin": true }, names)).not.toThrow();
    expect(
      flagRefusal(() =>
        refuseSeveralFromStdin({ "token-stdin": true, "secret-access-key-stdin": true }, names),
      ),
    ).toBe(
      "stdin holds one secret: give only one of --token-stdin, --secret-access-key-stdin and the others as files",
    );
  });
});
