import { mkdtemp, readFile, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { beforeEach, describe, expect, it } from "vitest";
import {
  createKeyRing,
  formatCheckpoint,
  formatVerifierKeyRing,
  KeyRingError,
  openCheckpoint,
  openNote,
  parseKeyRing,
  readKeyRing,
  rotateKeyRing,
  signNote,
} from "./index.ts";

let directory: string;
let path: string;

beforeEach(async () => {
  directory = await mkdtemp(join(tmpdir(), "tlog-keys-"));
  path = join(directory, "checkpoint-keys");
});

async function mode(file: string): Promise<number> {
  return (await stat(file)).mode & 0o777;
}

describe("the key file", () => {
  it("is created with one signing key, readable by its owner only", async () => {
    const ring = await createKeyRing(path, "auditlog.example");
    expect(await mode(path)).toBe(0o600);
    expect(ring.signer?.name).toBe("auditlog.example");
    expect(ring.verifiers).toHaveLength(1);
    expect(ring.verifiers[0]).toMatchObject({
      name: "auditlog.example",
      keyId: ring.signer?.keyId,
      active: true,
    });
    const text = await readFile(path, "utf8");
    expect(text.match(/^PRIVATE\+KEY\+/gm)).toHaveLength(1);
    expect((await readKeyRing(path)).signer?.verifierKey).toBe(ring.signer?.verifierKey);
  });

  it("is never overwritten by create", async () => {
    const first = await createKeyRing(path, "auditlog.example");
    await expect(createKeyRing(path, "auditlog.example")).rejects.toThrow(/refusing to overwrite/);
    expect((await readKeyRing(path)).signer?.verifierKey).toBe(first.signer?.verifierKey);
    await expect(createKeyRing(join(directory, "x"), "bad name")).rejects.toThrow(KeyRingError);
  });

  it("rotates: the old private key leaves the file, its public key stays published", async () => {
    const first = await createKeyRing(path, "auditlog.example");
    const oldSigner = first.signer;
    if (oldSigner === undefined) throw new Error("no signer");
    const oldNote = signNote(
      formatCheckpoint({ origin: "o", treeSize: 1, rootHash: new Uint8Array(32) }),
      oldSigner,
    );
    const oldPrivate = (await readFile(path, "utf8")).match(/^PRIVATE\+KEY\+.*$/m)?.[0] as string;

    const rotated = await rotateKeyRing(path);
    const text = await readFile(path, "utf8");
    expect(text).not.toContain(oldPrivate);
    // PRIVATE+KEY+<name>+<hash>+<base64>: the key's base64 may itself hold "+" (a key whose
    // base64 ended with one made this check look for "", and fail, about one run in 64).
    const oldKeyBase64 = oldPrivate.split("+").slice(4).join("+");
    expect(oldKeyBase64).toMatch(/^[A-Za-z0-9+/]{44}$/);
    expect(text).not.toContain(oldKeyBase64);
    expect(text.match(/^PRIVATE\+KEY\+/gm)).toHaveLength(1);
    expect(await mode(path)).toBe(0o600);
    expect(rotated.signer?.keyId).not.toBe(oldSigner.keyId);
    expect(rotated.verifiers.map((key) => [key.keyId, key.active])).toEqual([
      [oldSigner.keyId, false],
      [rotated.signer?.keyId, true],
    ]);

    // Checkpoints signed before the rotation still open with the published keys, new ones too.
    const published = rotated.verifiers.map((key) => key.verifierKey);
    expect(openCheckpoint(oldNote, published).signatures).toEqual([
      { name: "auditlog.example", keyId: oldSigner.keyId },
    ]);
    const newNote = signNote("new\n", rotated.signer as NonNullable<typeof rotated.signer>);
    expect(openNote(newNote, rotated.verifiers).signatures[0]?.keyId).toBe(rotated.signer?.keyId);

    // A second rotation, under a new name, keeps both old keys.
    const again = await rotateKeyRing(path, "auditlog.example/v2");
    expect(again.verifiers.map((key) => key.name)).toEqual([
      "auditlog.example",
      "auditlog.example",
      "auditlog.example/v2",
    ]);
    expect(again.verifiers.filter((key) => key.active).map((key) => key.keyId)).toEqual([
      again.signer?.keyId,
    ]);
  });

  it("has a verifier-only copy for a process that only verifies", async () => {
    await createKeyRing(path, "auditlog.example");
    const ring = await rotateKeyRing(path);
    const copyPath = join(directory, "checkpoint-keys.pub");
    await writeFile(copyPath, formatVerifierKeyRing(ring));
    const copy = await readKeyRing(copyPath);
    expect(copy.signer).toBeUndefined();
    expect(await readFile(copyPath, "utf8")).not.toContain("PRIVATE");
    expect(copy.verifiers.map(({ verifierKey, active }) => ({ verifierKey, active }))).toEqual(
      ring.verifiers.map(({ verifierKey, active }) => ({ verifierKey, active })),
    );
    const note = signNote("t\n", ring.signer as NonNullable<typeof ring.signer>);
    expect(openNote(note, copy.verifiers).signatures).toHaveLength(1);
    await expect(rotateKeyRing(copyPath)).rejects.toThrow(/no signing key to rotate/);
  });

  it("names the line it cannot read, without its content", () => {
    const secret = "PRIVATE+KEY+a+00000000+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
    expect(() => parseKeyRing(`# comment\n\n${secret}\n`)).toThrow(
      "line 3 of the key file is not a key",
    );
    try {
      parseKeyRing(secret);
    } catch (error) {
      expect(String(error)).not.toContain("AQABAgMEBQYH");
    }
    expect(parseKeyRing("# nothing\n")).toEqual({ verifiers: [] });
  });
});
