import { createHash, createPublicKey, verify } from "node:crypto";
import { describe, expect, it } from "vitest";
import {
  CheckpointError,
  checkpointOrigin,
  formatCheckpoint,
  openCheckpoint,
  parseCheckpoint,
  parseSignerKey,
  signerKeyFromSeed,
  signNote,
} from "./index.ts";

// A fixed key (seed 0x00 … 0x1f), a fixed tree head, and the signed note they make, written out.
const seed = Uint8Array.from({ length: 32 }, (_, i) => i);
const signerKey =
  "PRIVATE+KEY+auditlog.example+79b7b062+AQABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
const verifierKey = "auditlog.example+79b7b062+AQOhB7/zzhC+HXDdGOdLwJln5NYwm6UNXx3chmQSVTG4";
const rootHash = createHash("sha256").update("the root of a tree of 1234567 entries").digest();
const expectedNote =
  "auditlog.example/orgs/org_7f3a9c\n" +
  "1234567\n" +
  "mkdPp/k21Z45UXkXvNEGYjm8oUqvLsDmlHtyfcFA4vU=\n" +
  "\n" +
  "— auditlog.example ebewYpTPTR0HKZSM4gksrVlvH/Whys7ypqqmJwEtf0eoyVLLzXgb3ybOF1GbVKbRD2m+b5NGh10cb2HSe3mi+RWVswc=\n";

describe("a checkpoint note", () => {
  it("is byte for byte the C2SP tlog-checkpoint in a signed note", () => {
    expect(signerKeyFromSeed("auditlog.example", seed)).toBe(signerKey);
    const signer = parseSignerKey(signerKey);
    expect(signer.verifierKey).toBe(verifierKey);
    const origin = checkpointOrigin("auditlog.example", "org_7f3a9c");
    const text = formatCheckpoint({ origin, treeSize: 1234567, rootHash });
    expect(signNote(text, signer)).toBe(expectedNote);
  });

  it("verifies with plain Node Ed25519, from the published key and the C2SP rules alone", () => {
    const [text, signatureLine] = expectedNote.split("\n\n") as [string, string];
    const [dash, name, encoded] = signatureLine.trimEnd().split(" ") as [string, string, string];
    expect(dash).toBe("—");
    const signature = Buffer.from(encoded, "base64");
    const publicKey = Buffer.from(verifierKey.split("+").slice(2).join("+"), "base64").subarray(1);
    // key ID = SHA-256(key name ‖ 0x0A ‖ 0x01 ‖ public key)[:4]
    const keyId = createHash("sha256")
      .update(Buffer.concat([Buffer.from(`${name}\n`), Buffer.of(0x01), publicKey]))
      .digest()
      .subarray(0, 4);
    expect(signature.subarray(0, 4).toString("hex")).toBe(keyId.toString("hex"));
    const key = createPublicKey({
      key: { kty: "OKP", crv: "Ed25519", x: publicKey.toString("base64url") },
      format: "jwk",
    });
    expect(verify(null, Buffer.from(`${text}\n`), key, signature.subarray(4))).toBe(true);
    expect(verify(null, Buffer.from(`${text}x\n`), key, signature.subarray(4))).toBe(false);
  });

  it("opens to its tree head, for its own origin only", () => {
    const opened = openCheckpoint(expectedNote, [verifierKey], "auditlog.example/orgs/org_7f3a9c");
    expect(opened.treeSize).toBe(1234567);
    expect(Buffer.from(opened.rootHash).equals(rootHash)).toBe(true);
    expect(opened.signatures).toEqual([{ name: "auditlog.example", keyId: "79b7b062" }]);
    expect(() =>
      openCheckpoint(expectedNote, [verifierKey], "auditlog.example/orgs/other"),
    ).toThrow(CheckpointError);
  });
});

describe("parseCheckpoint", () => {
  it("reads the three lines and any extension lines", () => {
    const text = formatCheckpoint({ origin: "o", treeSize: 0, rootHash });
    expect(parseCheckpoint(text)).toEqual({
      origin: "o",
      treeSize: 0,
      rootHash: new Uint8Array(rootHash),
      extensions: [],
    });
    expect(parseCheckpoint(`${text}ext one\next two\n`).extensions).toEqual(["ext one", "ext two"]);
  });

  it("refuses anything else", () => {
    const root = rootHash.toString("base64");
    for (const text of [
      `o\n12\n${root}`,
      `o\n12\n`,
      `\n12\n${root}\n`,
      `o\n012\n${root}\n`,
      `o\n-1\n${root}\n`,
      `o\n1e3\n${root}\n`,
      `o\n9007199254740993\n${root}\n`,
      `o\n12\n${root.slice(0, -4)}\n`,
      `o\n12\n${root}x\n`,
      `o\n12\n${root}\n\n`,
      `o\r\n12\n${root}\n`,
    ]) {
      expect(() => parseCheckpoint(text), JSON.stringify(text)).toThrow(CheckpointError);
    }
    expect(() => formatCheckpoint({ origin: "a\nb", treeSize: 1, rootHash })).toThrow(
      CheckpointError,
    );
    expect(() => formatCheckpoint({ origin: "a", treeSize: -1, rootHash })).toThrow(
      CheckpointError,
    );
    expect(() =>
      formatCheckpoint({ origin: "a", treeSize: 1, rootHash: rootHash.subarray(1) }),
    ).toThrow(CheckpointError);
    expect(() => checkpointOrigin("auditlog.example", "")).toThrow(CheckpointError);
    expect(() => checkpointOrigin("auditlog.example", "a\nb")).toThrow(CheckpointError);
  });
});
