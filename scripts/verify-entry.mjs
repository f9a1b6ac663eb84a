#!/usr/bin/env node
// Checks, without trusting the auditlog server, that one audit entry is in its organisation's
// signed log: the checkpoint's Ed25519 signature (C2SP signed note), the entry's leaf hash
// recomputed from the entry as the API returns it, and the RFC 9162 inclusion proof to the
// signed root; with --state, also that the log only grew since the last run (RFC 9162
// consistency proof). Node 20+, no dependencies: an auditor can read all of it.
//
//   node scripts/verify-entry.mjs --api https://audit.example.com --org acme --entry evt_… \
//     --key 'audit.example.com+1a2b3c4d+AQ…' [--state ./acme.checkpoint] [--json]
//
// The token comes from AUDITLOG_TOKEN (a personal access token or an org API key). Without
// --key the keys published by the server are used, and said to be unpinned.
import { createHash, createPublicKey, verify } from "node:crypto";
import { readFileSync, writeFileSync } from "node:fs";
import { parseArgs } from "node:util";

const sha256 = (...parts) => {
  const hash = createHash("sha256");
  for (const part of parts) hash.update(part);
  return hash.digest();
};
const nodeHash = (left, right) => sha256(Buffer.from([1]), left, right);
const same = (a, b) => Buffer.from(a).equals(Buffer.from(b));

/** RFC 8785 (JCS) for the JSON the API returns: members sorted by UTF-16 code units. */
export function canonicalJson(value) {
  if (value === null || typeof value !== "object") return JSON.stringify(value);
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(",")}]`;
  const keys = Object.keys(value).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(value[k])}`).join(",")}}`;
}

/** The leaf hash of an entry (README, "The leaf and the tree"), version 1. */
export function entryLeafHash(orgId, entry) {
  const personal = canonicalJson({
    actorName: entry.actor.name,
    actorAvatarUrl: entry.actor.avatarUrl ?? null,
    targetName: entry.target?.name ?? null,
    description: entry.description,
    ip: entry.ip ?? null,
    countryCode: entry.location?.countryCode ?? null,
    region: entry.location?.region ?? null,
    city: entry.location?.city ?? null,
    userAgent: entry.userAgent ?? null,
    oauthName: entry.oauth?.name ?? null,
    data: entry.data,
  });
  const digest = sha256(Buffer.from(entry.commitment.salt, "base64"), Buffer.from(personal));
  const leaf = canonicalJson({
    v: 1,
    org: orgId,
    id: entry.id,
    type: entry.type,
    category: entry.category,
    hiddenByDefault: entry.hiddenByDefault,
    occurredAt: entry.occurredAt,
    receivedAt: entry.receivedAt,
    actor: {
      type: entry.actor.type,
      id: entry.actor.id,
      tokenRole: entry.actor.tokenRole ?? null,
      tokenLast4: entry.actor.tokenLast4 ?? null,
    },
    target: entry.target ? { type: entry.target.type, id: entry.target.id } : null,
    oauthClientId: entry.oauth?.clientId ?? null,
    personal: digest.toString("base64"),
  });
  return sha256(Buffer.from([0]), Buffer.from(leaf));
}

const half = (n) => Math.floor(n / 2);
const odd = (n) => n % 2 === 1;

/** RFC 9162 §2.1.3.2: does `proof` lead from leaf `index` to `root` in a tree of `size`? */
export function verifyInclusion(index, size, leafHash, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leafHash;
  for (const p of proof) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      r = nodeHash(p, r);
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else r = nodeHash(r, p);
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && same(r, root);
}

/** RFC 9162 §2.1.4.2: does `proof` show the tree of size `m` is a prefix of the one of `n`? */
export function verifyConsistency(m, n, proof, firstRoot, secondRoot) {
  if (m < 1 || m > n) return false;
  if (m === n) return proof.length === 0 && same(firstRoot, secondRoot);
  const path = Number.isInteger(Math.log2(m)) ? [firstRoot, ...proof] : [...proof];
  if (path.length === 0) return false;
  let fn = m - 1;
  let sn = n - 1;
  while (odd(fn)) [fn, sn] = [half(fn), half(sn)];
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (odd(fn) || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      while (!odd(fn) && fn !== 0) [fn, sn] = [half(fn), half(sn)];
    } else sr = nodeHash(sr, c);
    [fn, sn] = [half(fn), half(sn)];
  }
  return sn === 0 && same(fr, firstRoot) && same(sr, secondRoot);
}

/** A Go sumdb/note verifier key, `<name>+<key id hex>+<base64(0x01 ‖ public key)>`. */
export function parseVerifierKey(text) {
  // The base64 part may itself hold "+": only the first two separate fields.
  const [name, keyId, ...rest] = text.trim().split("+");
  const key = rest.join("+");
  const bytes = Buffer.from(key ?? "", "base64");
  if (!name || !/^[0-9a-f]{8}$/.test(keyId ?? "") || bytes.length !== 33 || bytes[0] !== 1) {
    throw new Error("--key must be a verifier key: <name>+<8 hex digits>+<base64>");
  }
  return { name, publicKey: bytes.subarray(1) };
}

/** C2SP key id: SHA-256(name ‖ "\n" ‖ 0x01 ‖ public key)[:4]. */
const keyIdOf = ({ name, publicKey }) =>
  sha256(Buffer.from(`${name}\n`), Buffer.from([1]), publicKey).subarray(0, 4);

/** Opens a C2SP signed note: its text, once a signature by one of `keys` verifies. */
export function openNote(note, keys) {
  const split = note.lastIndexOf("\n\n");
  if (split < 0 || !note.endsWith("\n")) throw new Error("not a signed note");
  const text = note.slice(0, split + 1);
  for (const line of note.slice(split + 2, -1).split("\n")) {
    const match = /^\u2014 (\S+) (\S+)$/.exec(line);
    if (!match) throw new Error("malformed signature line");
    const signature = Buffer.from(match[2], "base64");
    for (const key of keys) {
      if (key.name !== match[1] || !keyIdOf(key).equals(signature.subarray(0, 4))) continue;
      const spki = Buffer.concat([Buffer.from("302a300506032b6570032100", "hex"), key.publicKey]);
      const publicKey = createPublicKey({ key: spki, format: "der", type: "spki" });
      if (verify(null, Buffer.from(text), publicKey, signature.subarray(4))) return text;
      throw new Error(`the signature by ${key.name} does not verify`);
    }
  }
  throw new Error("no signature by a trusted key");
}

export async function verifyEntry({ api, org, entry: entryId, token, key, state }) {
  const get = async (path) => {
    const response = await fetch(new URL(path, api), {
      headers: token ? { authorization: `Bearer ${token}` } : {},
    });
    if (!response.ok) throw new Error(`GET ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  };
  const base = `/v1/orgs/${encodeURIComponent(org)}/audit-logs`;
  const keys = key
    ? [parseVerifierKey(key)]
    : (await get("/v1/checkpoint-keys")).keys.map((k) => ({
        name: k.name,
        publicKey: Buffer.from(k.publicKey, "base64"),
      }));
  const checkpoint = await get(`${base}/checkpoint`);
  const [origin, size, rootText] = openNote(checkpoint.note, keys).split("\n");
  const treeSize = Number(size);
  const root = Buffer.from(rootText, "base64");
  const orgId = /\/orgs\/([^/]+)$/.exec(origin)?.[1];
  if (!orgId) throw new Error(`unexpected checkpoint origin ${origin}`);
  const result = { ok: true, origin, treeSize, rootHash: rootText, pinnedKey: Boolean(key) };

  if (state) {
    let previous;
    try {
      previous = JSON.parse(readFileSync(state, "utf8"));
    } catch {}
    if (previous) {
      if (previous.origin !== origin) throw new Error(`state is of ${previous.origin}`);
      if (previous.treeSize > treeSize) throw new Error("the log shrank since the last run");
      const { proof } = await get(`${base}/consistency?from=${previous.treeSize}&to=${treeSize}`);
      const ok = verifyConsistency(
        previous.treeSize,
        treeSize,
        proof.map((h) => Buffer.from(h, "base64")),
        Buffer.from(previous.rootHash, "base64"),
        root,
      );
      if (!ok) throw new Error(`the log of size ${treeSize} does not extend the one seen before`);
      result.consistentWith = previous.treeSize;
    }
    writeFileSync(state, JSON.stringify({ origin, treeSize, rootHash: rootText }));
  }

  if (entryId) {
    const entry = await get(`${base}/${encodeURIComponent(entryId)}`);
    const proof = await get(`${base}/${encodeURIComponent(entryId)}/proof?treeSize=${treeSize}`);
    const leafHash = entryLeafHash(orgId, entry);
    if (leafHash.toString("base64") !== proof.leafHash) {
      throw new Error(`entry ${entryId} does not hash to the leaf the log holds`);
    }
    const included = verifyInclusion(
      entry.seq - 1,
      treeSize,
      leafHash,
      proof.proof.map((h) => Buffer.from(h, "base64")),
      root,
    );
    if (!included) throw new Error(`entry ${entryId} is not in the signed log`);
    result.entry = { id: entryId, seq: entry.seq, leafHash: proof.leafHash };
  }
  return result;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const { values } = parseArgs({
    options: {
      api: { type: "string", default: "http://127.0.0.1:3000" },
      org: { type: "string" },
      entry: { type: "string" },
      key: { type: "string" },
      state: { type: "string" },
      json: { type: "boolean", default: false },
    },
  });
  if (!values.org) {
    console.error("usage: verify-entry.mjs --org <slug> [--entry <id>] [--key <verifier key>] …");
    process.exit(2);
  }
  try {
    const result = await verifyEntry({ ...values, token: process.env.AUDITLOG_TOKEN });
    if (values.json) console.log(JSON.stringify(result));
    else {
      console.log(`ok: ${result.origin} at size ${result.treeSize} is signed by a trusted key`);
      if (!result.pinnedKey) console.log("warning: key not pinned (--key); trusted the server's");
      if (result.consistentWith)
        console.log(`ok: extends the size ${result.consistentWith} seen before`);
      if (result.entry) console.log(`ok: ${result.entry.id} is entry ${result.entry.seq} of it`);
    }
  } catch (error) {
    if (values.json) console.log(JSON.stringify({ ok: false, error: error.message }));
    else console.error(`FAILED: ${error.message}`);
    process.exit(1);
  }
}
