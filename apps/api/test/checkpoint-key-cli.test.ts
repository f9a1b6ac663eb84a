import { execFile } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { checkpointKeysSchema } from "@auditlog/events";
import { formatVerifierKeyRing, readKeyRing } from "@auditlog/tlog";
import { afterAll, describe, expect, it } from "vitest";
import { checkpointKeyCommand } from "../src/cli/checkpoint-key-command.ts";

const run = promisify(execFile);
const repoRoot = new URL("../../../", import.meta.url).pathname;
const dir = mkdtempSync(join(tmpdir(), "auditlog-ckpt-cli-"));

/** `pnpm auditlog checkpoint-key …` as an operator runs it: a process of its own. */
function cli(args: string[]) {
  return run(process.execPath, ["--import", "tsx", "apps/api/src/cli/main.ts", ...args], {
    cwd: repoRoot,
    env: { ...process.env, LOG_ORIGIN: "cli.test" },
  }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (error: { code: number; stdout: string; stderr: string }) => error,
  );
}

/** The command in this process, with the API configuration `env` and its output kept. */
async function command(argv: string[], file = join(dir, "default-keys")) {
  const out: string[] = [];
  const err: string[] = [];
  const code = await checkpointKeyCommand(argv, {
    env: () => ({ CHECKPOINT_KEY_FILE: file, LOG_ORIGIN: "env.test" }),
    out: (line) => out.push(line),
    err: (line) => err.push(line),
  });
  return { code, out: out.join("\n"), err: err.join("\n") };
}

afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe("pnpm auditlog checkpoint-key", () => {
  it("create makes a mode-0600 key file named after LOG_ORIGIN, prints no private key, and refuses to overwrite it", async () => {
    const file = join(dir, "nested", "keys");
    const created = await cli(["checkpoint-key", "create", "--file", file, "--json"]);
    expect(created).toMatchObject({ code: 0, stderr: "" });
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const ring = await readKeyRing(file);
    expect(ring.signer?.name).toBe("cli.test");
    expect(JSON.parse(created.stdout)).toEqual({
      file,
      key: {
        name: "cli.test",
        keyId: ring.signer?.keyId,
        algorithm: "Ed25519",
        publicKey: Buffer.from(ring.signer?.publicKey as Uint8Array).toString("base64"),
        verifierKey: ring.signer?.verifierKey,
        active: true,
      },
    });
    expect(created.stdout).not.toContain("PRIVATE");

    const bytes = readFileSync(file, "utf8");
    const again = await cli(["checkpoint-key", "create", "--file", file]);
    expect(again).toMatchObject({
      code: 1,
      stdout: "",
      stderr: `error: ${file} already exists: refusing to overwrite a key file\n`,
    });
    expect(readFileSync(file, "utf8")).toBe(bytes);
    // Each spawned CLI compiles its TypeScript: seconds on a loaded machine.
  }, 90_000);

  it("create without --file writes CHECKPOINT_KEY_FILE, --name names the key", async () => {
    const file = join(dir, "from-env");
    expect((await command(["create"], file)).code).toBe(0);
    expect((await readKeyRing(file)).signer?.name).toBe("env.test");
    const named = join(dir, "named");
    const result = await command(["create", "--name", "logs.example.com", "--file", named]);
    expect(result.code).toBe(0);
    expect((await readKeyRing(named)).signer?.name).toBe("logs.example.com");
    expect(await command(["create", "--name", "two words", "--file", join(dir, "bad")])).toEqual({
      code: 1,
      out: "",
      err: "error: --name must be non-empty, without spaces or '+'",
    });
  });

  it("rotate signs with a new key and keeps the old public key; list shows both and never a private key", async () => {
    const file = join(dir, "rotated");
    expect((await command(["create", "--file", file])).code).toBe(0);
    const before = await readKeyRing(file);
    const rotated = await command(["rotate", "--file", file, "--json"]);
    expect(rotated.code).toBe(0);
    const after = await readKeyRing(file);
    expect(after.signer?.keyId).not.toBe(before.signer?.keyId);
    expect(after.verifiers.map((key) => [key.verifierKey, key.active])).toEqual([
      [before.signer?.verifierKey, false],
      [after.signer?.verifierKey, true],
    ]);
    // The retired private key is gone from the file; only the new one remains.
    expect(readFileSync(file, "utf8").match(/PRIVATE\+KEY\+/g)).toHaveLength(1);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(rotated.out).key.keyId).toBe(after.signer?.keyId);

    const listed = await command(["list", "--file", file, "--json"]);
    expect(listed.code).toBe(0);
    const body = JSON.parse(listed.out);
    expect(body.signing).toBe(true);
    // The shape GET /v1/checkpoint-keys publishes.
    expect(checkpointKeysSchema.parse(body).keys.map((key) => [key.keyId, key.active])).toEqual([
      [before.signer?.keyId, false],
      [after.signer?.keyId, true],
    ]);
    const text = await cli(["checkpoint-key", "list", "--file", file]);
    expect(text.code).toBe(0);
    expect(text.stdout.trim().split("\n")).toEqual([
      file,
      `${before.signer?.name}  ${before.signer?.keyId}  retired  ${before.signer?.verifierKey}`,
      `${after.signer?.name}  ${after.signer?.keyId}  active   ${after.signer?.verifierKey}`,
    ]);
    for (const output of [rotated.out, listed.out, text.stdout, text.stderr]) {
      expect(output).not.toContain("PRIVATE");
    }
  }, 60_000);

  it("names the file when there is nothing to list or rotate", async () => {
    const missing = join(dir, "missing");
    expect(await command(["list", "--file", missing])).toEqual({
      code: 1,
      out: "",
      err: `error: ${missing} does not exist: create it with \`pnpm auditlog checkpoint-key create --file ${missing}\``,
    });
    const publicOnly = join(dir, "public-only");
    expect((await command(["create", "--file", join(dir, "source")])).code).toBe(0);
    writeFileSync(publicOnly, formatVerifierKeyRing(await readKeyRing(join(dir, "source"))));
    expect(await command(["rotate", "--file", publicOnly])).toEqual({
      code: 1,
      out: "",
      err: `error: ${publicOnly} holds no signing key to rotate`,
    });
    const listed = await command(["list", "--file", publicOnly]);
    expect(listed.out.split("\n")[0]).toBe(`${publicOnly} (public keys only: cannot sign)`);
    expect((await command(["destroy"])).err).toMatch(
      /^error: unknown command "checkpoint-key destroy"/,
    );
  });
});
