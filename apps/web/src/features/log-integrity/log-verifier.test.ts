import type { AuditEntry, ConsistencyProof } from "@auditlog/events";
import { generateSignerKey, parseSignerKey } from "@auditlog/tlog";
import { beforeAll, describe, expect, it, vi } from "vitest";
import {
  logEntries,
  publishedKey,
  type SignedLog,
  signedLog,
  testOrgId,
} from "../../../test/signed-log.ts";
import {
  type CheckLatestInput,
  checkEntryInclusion,
  checkLatestCheckpoint,
  type LogVerification,
  RefusedProofError,
  type TrustedCheckpoint,
} from "./log-verifier.ts";
import { loadTrustedCheckpoint, saveTrustedCheckpoint } from "./trust-store.ts";

// Real crypto on both sides: the logs are built and signed with tlog's Node code, checked with
// tlog/browser's WebCrypto code, as in the console.

const keys = [publishedKey()];

function verified(result: LogVerification) {
  if (result.status !== "verified")
    throw new Error(`expected verified, got ${JSON.stringify(result)}`);
  return result;
}

function failed(result: LogVerification) {
  if (result.status !== "failed") throw new Error(`expected failed, got ${JSON.stringify(result)}`);
  return result;
}

describe("checkLatestCheckpoint", () => {
  let log: SignedLog;
  let rewritten: SignedLog;
  beforeAll(async () => {
    log = await signedLog(logEntries(12));
    // The same organisation's log with entry 3 changed: same size, other history.
    const other = logEntries(12);
    other[2] = { ...(other[2] as AuditEntry), description: "someone rewrote this" };
    rewritten = await signedLog(other);
  });

  const serving = (source: SignedLog, overrides: Partial<CheckLatestInput> = {}) => {
    const fetchConsistency = vi.fn(
      async (from: number, to: number): Promise<ConsistencyProof> => ({
        fromSize: from,
        toSize: to,
        proof: await source.consistency(from, to),
      }),
    );
    return {
      fetchConsistency,
      input: {
        orgId: testOrgId,
        keys,
        checkpoint: source.checkpoint(source.entries.length),
        trusted: null,
        fetchConsistency,
        now: () => new Date("2026-03-02T00:00:00Z"),
        ...overrides,
      } satisfies CheckLatestInput,
    };
  };
  const trustedAt = async (source: SignedLog, size: number): Promise<TrustedCheckpoint> =>
    verified(
      await checkLatestCheckpoint(serving(source, { checkpoint: source.checkpoint(size) }).input),
    ).checkpoint;

  it("verifies a first checkpoint on trust and pins its origin and keys", async () => {
    const { input, fetchConsistency } = serving(log);
    const result = verified(await checkLatestCheckpoint(input));
    expect(result.checkpoint).toEqual({
      origin: `auditlog.localhost/orgs/${testOrgId}`,
      treeSize: 12,
      rootHash: log.checkpoint(12).rootHash,
      signedAt: log.checkpoint(12).signedAt,
      keys: [keys[0]?.verifierKey],
      verifiedAt: "2026-03-02T00:00:00.000Z",
    });
    expect(result.extends).toBeNull();
    expect(result.signedBy).toEqual([`${keys[0]?.name}+${keys[0]?.keyId}`]);
    expect(result.keyWarnings).toEqual([]);
    expect(fetchConsistency).not.toHaveBeenCalled();
  });

  it("verifies a grown log with a consistency proof from the checkpoint seen before", async () => {
    const trusted = await trustedAt(log, 5);
    const { input, fetchConsistency } = serving(log, { trusted });
    const result = verified(await checkLatestCheckpoint(input));
    expect(fetchConsistency).toHaveBeenCalledWith(5, 12);
    expect(result.extends).toBe(5);
    expect(result.checkpoint.treeSize).toBe(12);
  });

  it("verifies the same checkpoint again without asking for a proof", async () => {
    const trusted = await trustedAt(log, 12);
    const { input, fetchConsistency } = serving(log, { trusted });
    expect(verified(await checkLatestCheckpoint(input)).extends).toBe(12);
    expect(fetchConsistency).not.toHaveBeenCalled();
  });

  it("fails a rewritten log that is not an extension of the checkpoint seen before", async () => {
    const trusted = await trustedAt(log, 5);
    const result = failed(await checkLatestCheckpoint(serving(rewritten, { trusted }).input));
    expect(result.reason).toBe("inconsistent");
    expect(result.message).toMatch(/^The consistency proof does not show/);
    // The reference stays the one verified before.
    expect(result.trusted).toEqual(trusted);
  });

  it("fails a consistency proof with one hash changed", async () => {
    const trusted = await trustedAt(log, 5);
    const { input } = serving(log, {
      trusted,
      fetchConsistency: async (from, to) => {
        const proof = await log.consistency(from, to);
        proof[0] = rewritten.checkpoint(5).rootHash;
        return { fromSize: from, toSize: to, proof };
      },
    });
    expect(failed(await checkLatestCheckpoint(input)).reason).toBe("inconsistent");
  });

  it("fails a log smaller than, or of the same size but another root than, the one seen", async () => {
    const trusted = await trustedAt(log, 12);
    const smaller = failed(
      await checkLatestCheckpoint(serving(log, { trusted, checkpoint: log.checkpoint(11) }).input),
    );
    expect(smaller.reason).toBe("inconsistent");
    expect(smaller.message).toMatch(/11 entries, fewer than the checkpoint of 12/);
    const sameSize = failed(await checkLatestCheckpoint(serving(rewritten, { trusted }).input));
    expect(sameSize.reason).toBe("inconsistent");
    expect(sameSize.message).toMatch(/^Same size, different root hash/);
  });

  it("fails when the server refuses the consistency proof, and throws on an outage", async () => {
    const trusted = await trustedAt(log, 5);
    const refused = serving(log, {
      trusted,
      fetchConsistency: async () => {
        throw new RefusedProofError("from is larger than the log");
      },
    }).input;
    const result = failed(await checkLatestCheckpoint(refused));
    expect(result.reason).toBe("inconsistent");
    expect(result.message).toMatch(/^The server refused to prove .*from is larger than the log/);
    const outage = serving(log, {
      trusted,
      fetchConsistency: async () => {
        throw new TypeError("network down");
      },
    }).input;
    await expect(checkLatestCheckpoint(outage)).rejects.toThrow("network down");
  });

  it("fails when the server has no checkpoint any more for a log verified before", async () => {
    const trusted = await trustedAt(log, 5);
    const gone = failed(
      await checkLatestCheckpoint(serving(log, { trusted, checkpoint: null }).input),
    );
    expect(gone.reason).toBe("inconsistent");
    const never = await checkLatestCheckpoint(serving(log, { checkpoint: null }).input);
    expect(never).toEqual({
      status: "none",
      keyWarnings: [],
      publishedKeys: [keys[0]?.verifierKey],
    });
  });

  it("fails a bad signature", async () => {
    const checkpoint = log.checkpoint(12);
    // Flip a bit in the signature's last base64 digit but one (inside the signature bytes).
    const lines = checkpoint.note.split("\n");
    const sig = lines.at(-2) as string;
    const at = sig.length - 3;
    lines[lines.length - 2] = sig.slice(0, at) + (sig[at] === "A" ? "B" : "A") + sig.slice(at + 1);
    const result = failed(
      await checkLatestCheckpoint(
        serving(log, { checkpoint: { ...checkpoint, note: lines.join("\n") } }).input,
      ),
    );
    expect(result.reason).toBe("bad-signature");
    expect(result.message).toMatch(
      /^The note says: invalid signature for key auditlog.localhost\+/,
    );
  });

  it("fails a checkpoint signed by a key that is not published", async () => {
    const stranger = parseSignerKey(generateSignerKey("auditlog.localhost"));
    const result = failed(
      await checkLatestCheckpoint(
        serving(log, { checkpoint: log.checkpoint(12, { signer: stranger }) }).input,
      ),
    );
    expect(result.reason).toBe("unknown-key");
    // Published, it verifies: the failure was the key, nothing else.
    verified(
      await checkLatestCheckpoint(
        serving(log, {
          checkpoint: log.checkpoint(12, { signer: stranger }),
          keys: [...keys, publishedKey(stranger)],
        }).input,
      ),
    );
  });

  it("fails a checkpoint of another organisation, or of another origin than seen before", async () => {
    const otherOrg = failed(
      await checkLatestCheckpoint(
        serving(log, {
          checkpoint: log.checkpoint(12, { origin: "auditlog.localhost/orgs/org_2" }),
        }).input,
      ),
    );
    expect(otherOrg.reason).toBe("wrong-origin");
    expect(otherOrg.message).toMatch(/not of an organisation log ending in \/orgs\/org_1/);
    // A suffix match alone is not enough: "/orgs/org_1" must be a whole path segment's end.
    expect(
      failed(
        await checkLatestCheckpoint(
          serving(log, { checkpoint: log.checkpoint(12, { origin: "x/orgs/xorg_1" }) }).input,
        ),
      ).reason,
    ).toBe("wrong-origin");
    const trusted = await trustedAt(log, 5);
    const moved = failed(
      await checkLatestCheckpoint(
        serving(log, {
          trusted,
          checkpoint: log.checkpoint(12, { origin: `elsewhere.example/orgs/${testOrgId}` }),
        }).input,
      ),
    );
    expect(moved.reason).toBe("wrong-origin");
    expect(moved.message).toMatch(/verified “auditlog.localhost\/orgs\/org_1” before/);
  });

  it("fails a checkpoint whose JSON disagrees with its signed note", async () => {
    const checkpoint = { ...log.checkpoint(12), treeSize: 13 };
    const result = failed(await checkLatestCheckpoint(serving(log, { checkpoint }).input));
    expect(result.reason).toBe("malformed");
  });

  it("warns about a pinned key that disappeared or changed, and keeps it pinned", async () => {
    const trusted = await trustedAt(log, 5);
    const [name, id] = (keys[0]?.verifierKey as string).split("+");
    const retired = parseSignerKey(generateSignerKey("retired.example")).verifierKey;
    const swapped = `${name}+${id}+AXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXXX`;
    const result = verified(
      await checkLatestCheckpoint(
        serving(log, { trusted: { ...trusted, keys: [...trusted.keys, retired, swapped] } }).input,
      ),
    );
    expect(result.keyWarnings).toEqual([
      { kind: "disappeared", key: retired.split("+").slice(0, 2).join("+") },
      { kind: "changed", key: `${name}+${id}` },
    ]);
    expect(result.checkpoint.keys).toEqual(expect.arrayContaining([retired, swapped]));
  });
});

describe("checkEntryInclusion", () => {
  let log: SignedLog;
  beforeAll(async () => {
    log = await signedLog(logEntries(7));
  });

  const check = async (entry: AuditEntry, size = 7, tweak?: (proof: string[]) => void) => {
    const { leafHash, proof } = await log.proof(entry.seq, size);
    tweak?.(proof);
    return checkEntryInclusion({
      orgId: testOrgId,
      entry,
      proof: { leafIndex: entry.seq - 1, leafHash, treeSize: size, proof },
      checkpoint: log.checkpoint(size),
    });
  };

  it("proves every entry of the log, in trees of every size that holds it", async () => {
    for (let size = 1; size <= 7; size++) {
      for (const entry of log.entries.slice(0, size)) {
        expect(await check(entry, size)).toMatchObject({ status: "included", seq: entry.seq });
      }
    }
  });

  it("fails an entry changed after it was logged", async () => {
    const entry = log.entries[3] as AuditEntry;
    const changed = { ...entry, data: { ...entry.data, private: false } };
    const { leafHash, proof } = await log.proof(entry.seq, 7);
    const result = await checkEntryInclusion({
      orgId: testOrgId,
      entry: changed,
      proof: { leafIndex: 3, leafHash, treeSize: 7, proof },
      checkpoint: log.checkpoint(7),
    });
    expect(result.status).toBe("failed");
    expect(result).toMatchObject({ message: expect.stringMatching(/does not match the log/) });
    // A server that recomputes the leaf from the changed row still cannot reach the root.
    const honestLeaf = await checkEntryInclusion({
      orgId: testOrgId,
      entry: changed,
      proof: { leafIndex: 3, leafHash: result.leafHash as string, treeSize: 7, proof },
      checkpoint: log.checkpoint(7),
    });
    expect(honestLeaf).toMatchObject({
      status: "failed",
      message: expect.stringMatching(/does not lead to the verified checkpoint's root/),
    });
  });

  it("fails a proof with a changed hash, for another entry, or of another size", async () => {
    const entry = log.entries[2] as AuditEntry;
    const flipped = await check(entry, 7, (proof) => {
      proof[1] = log.checkpoint(1).rootHash;
    });
    expect(flipped.status).toBe("failed");
    const { leafHash, proof } = await log.proof(3, 7);
    const checkpoint = log.checkpoint(7);
    const wrongIndex = await checkEntryInclusion({
      orgId: testOrgId,
      entry,
      proof: { leafIndex: 3, leafHash, treeSize: 7, proof },
      checkpoint,
    });
    expect(wrongIndex).toMatchObject({
      status: "failed",
      message: "The proof is for entry 4, not entry 3.",
    });
    const wrongSize = await checkEntryInclusion({
      orgId: testOrgId,
      entry,
      proof: { leafIndex: 2, leafHash, treeSize: 6, proof },
      checkpoint,
    });
    expect(wrongSize).toMatchObject({ status: "failed" });
    // In another organisation, the same entry is another leaf.
    const otherOrg = await checkEntryInclusion({
      orgId: "org_2",
      entry,
      proof: { leafIndex: 2, leafHash, treeSize: 7, proof },
      checkpoint,
    });
    expect(otherOrg.status).toBe("failed");
  });
});

describe("the trust store", () => {
  it("keeps the last verified checkpoint per organisation and ignores what it cannot read", () => {
    const trusted: TrustedCheckpoint = {
      origin: "auditlog.localhost/orgs/org_1",
      treeSize: 3,
      rootHash: "mkdPp/k21Z45UXkXvNEGYjm8oUqvLsDmlHtyfcFA4vU=",
      signedAt: "2026-03-01T12:00:03.000Z",
      keys: ["k"],
      verifiedAt: "2026-03-01T12:00:04.000Z",
    };
    saveTrustedCheckpoint("org_1", trusted);
    expect(loadTrustedCheckpoint("org_1")).toEqual(trusted);
    expect(loadTrustedCheckpoint("org_2")).toBeNull();
    window.localStorage.setItem("auditlog.verified-checkpoint.org_2", "{not json");
    expect(loadTrustedCheckpoint("org_2")).toBeNull();
  });
});
