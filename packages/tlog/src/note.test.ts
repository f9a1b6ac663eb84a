import { describe, expect, it } from "vitest";
import {
  generateSignerKey,
  isValidKeyName,
  NoteError,
  type NoteVerifier,
  openNote,
  parseSignerKey,
  parseVerifierKey,
  signNote,
  verifierKeyFromPublicKey,
} from "./index.ts";

// Go's golang.org/x/mod/sumdb/note tests (note_test.go, x/mod 0.7.0) give a fixed key and the
// note it signs: ours must write and read the same bytes.
const peterSigner =
  "PRIVATE+KEY+PeterNeumann+c74f20a3+AYEKFALVFGyNhPJEMzD1QIDr+Y7hfZx09iUvxdXHKDFz";
const peterVerifier = "PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW";
const enochVerifier = "EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop";
const text =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const peterSig =
  "— PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n";
const enochSig =
  "— EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n";

describe("Go's note vectors", () => {
  it("sign: the same note, byte for byte", () => {
    expect(signNote(text, parseSignerKey(peterSigner))).toBe(`${text}\n${peterSig}`);
    expect(parseSignerKey(peterSigner).verifierKey).toBe(peterVerifier);
  });

  it("open: known keys verify, unknown ones are set aside, none known is refused", () => {
    const both = `${text}\n${peterSig}${enochSig}`;
    expect(openNote(both, [peterVerifier])).toEqual({
      text,
      signatures: [{ name: "PeterNeumann", keyId: "c74f20a3" }],
      unknownSignatures: [{ name: "EnochRoot", keyId: "af0cfe78" }],
    });
    expect(openNote(both, [peterVerifier, enochVerifier]).signatures).toEqual([
      { name: "PeterNeumann", keyId: "c74f20a3" },
      { name: "EnochRoot", keyId: "af0cfe78" },
    ]);
    expect(() => openNote(both, [])).toThrow(/no signature from a known key/);
    // A key's repeated signature counts once.
    expect(openNote(`${text}\n${peterSig}${peterSig}`, [peterVerifier]).signatures).toHaveLength(1);
    expect(() => openNote(`${text}\n${peterSig.repeat(101)}`, [peterVerifier])).toThrow(
      /malformed note/,
    );
  });

  it("keys: every substring and every one-byte change of a key string is refused", () => {
    expect(parseVerifierKey(peterVerifier).keyId).toBe("c74f20a3");
    for (const key of [peterVerifier, peterSigner]) {
      const parse = key.startsWith("PRIVATE") ? parseSignerKey : parseVerifierKey;
      for (let i = 0; i <= key.length; i++) {
        for (let j = i + 1; j <= key.length; j++) {
          if (i === 0 && j === key.length) continue;
          expect(() => parse(key.slice(i, j)), key.slice(i, j)).toThrow(NoteError);
        }
      }
      for (let i = 0; i < key.length; i++) {
        const changed =
          key.slice(0, i) + String.fromCharCode(key.charCodeAt(i) + 1) + key.slice(i + 1);
        expect(() => parse(changed), changed).toThrow(NoteError);
      }
    }
    // A key of the wrong length and one of an unknown algorithm, each with a matching hash.
    expect(() =>
      parseVerifierKey(
        "PeterNeumann+cc469956+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TWBADKEY==",
      ),
    ).toThrow(NoteError);
    expect(() =>
      parseVerifierKey("PeterNeumann+173116ae+ZRpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW"),
    ).toThrow(/unknown verifier key algorithm/);
  });
});

describe("signNote and openNote", () => {
  const signer = parseSignerKey(generateSignerKey("auditlog.example"));

  it("round-trip any text, blank lines included, and refuse a changed note", () => {
    const body = "auditlog.example/orgs/o\n\nwith a blank line\n— not a signature\n";
    const note = signNote(body, signer);
    expect(openNote(note, [signer.verifierKey]).text).toBe(body);
    expect(verifierKeyFromPublicKey(signer.name, signer.publicKey)).toBe(signer.verifierKey);
    expect(() => openNote(note.replace("blank", "Blank"), [signer.verifierKey])).toThrow(
      /invalid signature for key auditlog.example\+/,
    );
    const lines = note.split("\n");
    const signature = lines.at(-2) as string;
    const forged = `${signature.slice(0, -6)}${signature.slice(-6, -5) === "A" ? "B" : "A"}${signature.slice(-5)}`;
    expect(() => openNote(note.replace(signature, forged), [signer.verifierKey])).toThrow(
      NoteError,
    );
  });

  it("sign with several keys, in order", () => {
    const other = parseSignerKey(generateSignerKey("witness.example"));
    const note = signNote("t\n", [signer, other]);
    expect(
      note
        .split("\n")
        .filter((line) => line.startsWith("— "))
        .map((line) => line.split(" ")[1]),
    ).toEqual(["auditlog.example", "witness.example"]);
    expect(openNote(note, [other.verifierKey]).signatures).toEqual([
      { name: "witness.example", keyId: other.keyId },
    ]);
  });

  it("refuse texts and notes outside the format", () => {
    expect(() => signNote("no newline", signer)).toThrow(/end with a newline/);
    expect(() => signNote("tab\there\n", signer)).toThrow(/control character/);
    expect(() => signNote("\ud800\n", signer)).toThrow(NoteError);
    const note = signNote("t\n", signer);
    for (const bad of [
      note.replace("\n\n", "\n"),
      note.slice(0, -1),
      note.replace("— ", "- "),
      `${note}\r`,
      note.replace("— auditlog.example ", "— auditlog example "),
      `${note}— auditlog.example AAAA\n`,
      `${note}— auditlog.example not*base64\n`,
    ]) {
      expect(() => openNote(bad, [signer.verifierKey])).toThrow(/malformed note/);
    }
  });

  it("refuse two different keys that share a name and a key hash", () => {
    const note = signNote("t\n", signer);
    const verifier = parseVerifierKey(signer.verifierKey);
    const impostor: NoteVerifier = {
      ...verifier,
      publicKey: new Uint8Array(32),
      verify: () => true,
    };
    expect(() => openNote(note, [verifier, impostor])).toThrow(/ambiguous key/);
  });

  it("take key names as Go does: no Unicode space, no plus, not empty", () => {
    expect(isValidKeyName("auditlog.example/orgs")).toBe(true);
    expect(isValidKeyName("名前\ufeff")).toBe(true);
    for (const name of ["", "a b", "a+b", "a\u0085b", "a\u00a0b", "a\u3000b", "a\nb", "\ud800"]) {
      expect(isValidKeyName(name), JSON.stringify(name)).toBe(false);
    }
    expect(() => generateSignerKey("a b")).toThrow(NoteError);
  });

  it("never repeat a key string in an error", () => {
    const broken = `${peterSigner.slice(0, -1)}!`;
    try {
      parseSignerKey(broken);
      expect.unreachable();
    } catch (error) {
      expect(String(error)).not.toContain("AYEKFALV");
      expect(String(error)).toBe("NoteError: malformed signer key");
    }
  });
});
