import { randomBytes } from "node:crypto";
import { mkdtempSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { createSecretBox, loadSecretBox, SecretBoxError, secretHint } from "./secret-box.ts";

describe("secret box", () => {
  it("seals to text without the secret and opens it again", () => {
    const box = createSecretBox([randomBytes(32)]);
    const sealed = box.seal("splunk-token-0123456789");
    expect(sealed).not.toContain("splunk-token");
    expect(sealed.startsWith(`v1.${box.sealingKeyId}.`)).toBe(true);
    expect(box.open(sealed)).toBe("splunk-token-0123456789");
    // A fresh nonce each time: the same secret never seals to the same text.
    expect(box.seal("same")).not.toBe(box.seal("same"));
  });

  it("refuses an altered sealed secret and one sealed with an unknown key", () => {
    const box = createSecretBox([randomBytes(32)]);
    const sealed = box.seal("dd-api-key");
    const last = sealed.at(-2) === "A" ? "B" : "A";
    const altered = `${sealed.slice(0, -2)}${last}${sealed.at(-1)}`;
    expect(() => box.open(altered)).toThrow(SecretBoxError);
    expect(() => createSecretBox([randomBytes(32)]).open(sealed)).toThrow(/lacks/);
    expect(() => box.open("plain-text")).toThrow(SecretBoxError);
  });

  it("opens with every key of the file and seals with the last (rotation)", () => {
    const [oldKey, newKey] = [randomBytes(32), randomBytes(32)];
    const sealedOld = createSecretBox([oldKey]).seal("old");
    const rotated = createSecretBox([oldKey, newKey]);
    expect(rotated.open(sealedOld)).toBe("old");
    expect(rotated.sealingKeyId).toBe(createSecretBox([newKey]).sealingKeyId);
  });

  it("creates the key file once, private, and reads the same key afterwards", () => {
    const file = join(mkdtempSync(join(tmpdir(), "secrets-")), "nested", "secrets-key");
    const first = loadSecretBox(file);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const second = loadSecretBox(file);
    expect(second.sealingKeyId).toBe(first.sealingKeyId);
    expect(second.open(first.seal("x"))).toBe("x");
    expect(readFileSync(file, "utf8")).toMatch(/^# auditlog secrets key/);
  });

  it("shows four characters of a secret", () => {
    expect(secretHint("abcdefgh")).toBe("efgh");
  });
});
