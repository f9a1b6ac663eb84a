import { assertWellFormedJson, canonicalJson, quoteJson } from "./canonical-json.ts";

// The leaf of an entry, version 1: the canonical form the README documents for auditors.
// Browser-safe (no Node imports): the Node and the WebCrypto entry points hash these texts.
//
// Everything a later erasure may remove (names, avatar, description, address, location, user
// agent, OAuth app name, data) is committed only through a salted SHA-256 digest ("personal");
// the rest stays in clear so a proof still shows "actor X did T at t" after an erasure.

/** The fields of an entry the leaf commits to: a subset of the query API's entry shape. */
export interface LeafEntry {
  id: string;
  type: string;
  category: string;
  description: string;
  occurredAt: string;
  receivedAt: string;
  hiddenByDefault: boolean;
  actor: {
    type: string;
    id: string;
    name: string;
    avatarUrl: string | null;
    tokenRole: string | null;
    tokenLast4: string | null;
  };
  target: { type: string; id: string; name: string | null } | null;
  ip: string | null;
  location: { countryCode: string | null; region: string | null; city: string | null } | null;
  userAgent: string | null;
  oauth: { clientId: string; name: string | null } | null;
  data: Record<string, unknown>;
  /**
   * The 16-byte salt of the personal digest, base64; or, once the entry's personal fields were
   * erased (issue 16), the personal digest they had (32 bytes, base64) and no salt: the leaf
   * then takes that digest as it is, so it still recomputes, and the erased values are gone.
   */
  commitment: { salt: string; personal?: undefined } | { personal: string; salt?: undefined };
}

export const LEAF_VERSION = 1;
export const SALT_SIZE = 16;

// An absent value is written as null, as the API writes it.
function isAbsent<T>(value: T | null | undefined): value is null | undefined {
  return value === null || value === undefined;
}

/** The object whose canonical JSON is hashed, with the salt, into the personal digest. */
export function personalObject(entry: LeafEntry): Record<string, unknown> {
  return {
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
  };
}

/** The leaf object, given the base64 personal digest. */
export function leafObject(
  orgId: string,
  entry: LeafEntry,
  personalDigestBase64: string,
): Record<string, unknown> {
  return {
    v: LEAF_VERSION,
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
    target: isAbsent(entry.target) ? null : { type: entry.target.type, id: entry.target.id },
    oauthClientId: entry.oauth?.clientId ?? null,
    personal: personalDigestBase64,
  };
}

// The specialised serialisers below write the same text as canonicalJson(personalObject(…))
// and canonicalJson(leafObject(…)) (a property test holds them equal) with the members already
// in RFC 8785 order, so only `data` goes through the generic path: this is most of the leaf's
// cost, and `verify` computes every leaf of the log.

// One string at a time (concatenating these measured faster than one JSON.stringify of an
// object literal); lone surrogates are looked for once, in the finished text.
function text(value: unknown, field: string): string {
  if (typeof value !== "string") throw new TypeError(`${field} must be a string`);
  return quoteJson(value);
}

function nullableText(value: unknown, field: string): string {
  return value === null || value === undefined ? "null" : text(value, field);
}

/** canonicalJson(personalObject(entry)), written directly. */
export function personalJson(entry: LeafEntry): string {
  const { actor, target, location, oauth } = entry;
  if (entry.data === null || typeof entry.data !== "object" || Array.isArray(entry.data)) {
    throw new TypeError("data must be an object");
  }
  const json =
    `{"actorAvatarUrl":${nullableText(actor.avatarUrl, "actor.avatarUrl")}` +
    `,"actorName":${text(actor.name, "actor.name")}` +
    `,"city":${nullableText(location?.city, "location.city")}` +
    `,"countryCode":${nullableText(location?.countryCode, "location.countryCode")}` +
    `,"data":${canonicalJson(entry.data)}` +
    `,"description":${text(entry.description, "description")}` +
    `,"ip":${nullableText(entry.ip, "ip")}` +
    `,"oauthName":${nullableText(oauth?.name, "oauth.name")}` +
    `,"region":${nullableText(location?.region, "location.region")}` +
    `,"targetName":${nullableText(target?.name, "target.name")}` +
    `,"userAgent":${nullableText(entry.userAgent, "userAgent")}}`;
  assertWellFormedJson(json);
  return json;
}

/** canonicalJson(leafObject(orgId, entry, personalDigestBase64)), written directly. */
export function leafJson(orgId: string, entry: LeafEntry, personalDigestBase64: string): string {
  const { actor, target } = entry;
  if (typeof entry.hiddenByDefault !== "boolean") {
    throw new TypeError("hiddenByDefault must be a boolean");
  }
  const targetJson = isAbsent(target)
    ? "null"
    : `{"id":${text(target.id, "target.id")},"type":${text(target.type, "target.type")}}`;
  const json =
    `{"actor":{"id":${text(actor.id, "actor.id")}` +
    `,"tokenLast4":${nullableText(actor.tokenLast4, "actor.tokenLast4")}` +
    `,"tokenRole":${nullableText(actor.tokenRole, "actor.tokenRole")}` +
    `,"type":${text(actor.type, "actor.type")}}` +
    `,"category":${text(entry.category, "category")}` +
    `,"hiddenByDefault":${entry.hiddenByDefault ? "true" : "false"}` +
    `,"id":${text(entry.id, "id")}` +
    `,"oauthClientId":${nullableText(entry.oauth?.clientId, "oauth.clientId")}` +
    `,"occurredAt":${text(entry.occurredAt, "occurredAt")}` +
    `,"org":${text(orgId, "orgId")}` +
    `,"personal":${text(personalDigestBase64, "personal")}` +
    `,"receivedAt":${text(entry.receivedAt, "receivedAt")}` +
    `,"target":${targetJson}` +
    `,"type":${text(entry.type, "type")}` +
    `,"v":${LEAF_VERSION}}`;
  assertWellFormedJson(json);
  return json;
}

const CANONICAL_SALT = /^[A-Za-z0-9+/]{21}[AQgw]==$/;

/**
 * The entry's salt text, checked: exactly 16 bytes in canonical base64 (so one salt has one
 * text, and a decoder cannot quietly drop characters).
 */
export function checkedSalt(entry: LeafEntry): string {
  const salt = entry.commitment?.salt;
  if (typeof salt !== "string" || !CANONICAL_SALT.test(salt)) {
    throw new TypeError("commitment.salt must be the base64 of 16 bytes");
  }
  return salt;
}

const CANONICAL_DIGEST = /^[A-Za-z0-9+/]{42}[AEIMQUYcgkosw048]=$/;

/**
 * The personal digest an erased entry keeps (checked: 32 bytes in canonical base64), or
 * undefined for an entry that commits its personal fields through its salt.
 */
export function keptPersonalDigest(entry: LeafEntry): string | undefined {
  const commitment = entry.commitment as { salt?: unknown; personal?: unknown } | undefined;
  if (commitment?.personal === undefined) return undefined;
  if (
    commitment.salt !== undefined ||
    typeof commitment.personal !== "string" ||
    !CANONICAL_DIGEST.test(commitment.personal)
  ) {
    throw new TypeError("commitment.personal must be the base64 of 32 bytes, without a salt");
  }
  return commitment.personal;
}
