import { createHash } from "node:crypto";
import canonicalize from "canonicalize";
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { leafEntryArbitrary } from "../test/support/leaf-arbitrary.ts";
import { goldenOrgId, systemEntry, tokenEntry, userEntry } from "../test/support/leaf-entries.ts";
import { hex } from "../test/support/trees.ts";
import {
  canonicalJson,
  entryLeaf,
  entryLeafHash,
  entryLeafJson,
  type LeafEntry,
  leafObject,
  personalDigest,
  personalObject,
} from "./index.ts";
import { leafJson, personalJson } from "./leaf-form.ts";

// The leaf of an entry, version 1 (design §3), written out literally: a change of the canonical
// form breaks these, and must then come with a new leaf version.

const golden = [
  {
    name: "a user's entry: unicode, nested data, an IPv6 address",
    entry: userEntry,
    personal: String.raw`{"actorAvatarUrl":"https://cdn.example/avatars/42.png?size=64&v=\"2\"","actorName":"Zoë Müller","city":"Berlin","countryCode":"DE","data":{"Zebra":"sorts before a","a":"line one\nline \"two\"\u0001","renamed":{"from":"modèle-α","to":"model-β"},"tags":["nlp","日本語",null,3,0,1e+21,0.1],"€":{"nested":[{"deep":[true,false,null]}]}},"description":"Zoë Müller renamed “modèle-α” to “model-β” 🚀","ip":"2001:db8:85a3::","oauthName":null,"region":"Berlin","targetName":"model-β","userAgent":"Mozilla/5.0 (X11; Linux x86_64)\tFirefox/128.0"}`,
    leaf: String.raw`{"actor":{"id":"user_42","tokenLast4":null,"tokenRole":null,"type":"user"},"category":"repository","hiddenByDefault":false,"id":"01J9Z8Q4X6V2M5T3K7H1B0N9RC","oauthClientId":null,"occurredAt":"2026-03-01T12:34:56.789Z","org":"org_7f3a9c","personal":"Na6k+oaQIiLT7cfvR0E3U1x4tF+GQ+RqZb9yfcS2vXQ=","receivedAt":"2026-03-01T12:34:57.001Z","target":{"id":"model_9","type":"model"},"type":"repo.update","v":1}`,
    leafHash: "fc882296d257e10c5ee5c17cb9f8de5785c9e7534119187ea755476bd0ac0fb4",
  },
  {
    name: "a token's entry: nulls everywhere a value may be absent, hidden, an OAuth app",
    entry: tokenEntry,
    personal: String.raw`{"actorAvatarUrl":null,"actorName":"ci-deploy","city":null,"countryCode":null,"data":{},"description":"A token was created","ip":null,"oauthName":"Deploy Bot","region":null,"targetName":null,"userAgent":null}`,
    leaf: String.raw`{"actor":{"id":"token_abc","tokenLast4":"9f3c","tokenRole":"write","type":"token"},"category":"organization","hiddenByDefault":true,"id":"01J9Z8R0000000000000000001","oauthClientId":"oauth_app_1","occurredAt":"2026-03-02T00:00:00.000Z","org":"org_7f3a9c","personal":"a13+c2SyAmxB7+TnnVbdZrg+eNm1rZmLV9uKQC8ypWo=","receivedAt":"2026-03-02T00:00:00.250Z","target":null,"type":"org.token.create","v":1}`,
    leafHash: "ce11adfd2c2cc3257b2f6f03263250c579f147dec544baf61c559e0088cacd6d",
  },
  {
    name: "a system entry: empty strings, a partial location, an IPv4 address",
    entry: systemEntry,
    personal: String.raw`{"actorAvatarUrl":null,"actorName":"","city":null,"countryCode":"FR","data":{"amount":1234.5,"currency":"EUR","lines":[]},"description":"","ip":"203.0.113.0","oauthName":null,"region":null,"targetName":null,"userAgent":""}`,
    leaf: String.raw`{"actor":{"id":"system","tokenLast4":null,"tokenRole":null,"type":"system"},"category":"billing","hiddenByDefault":false,"id":"01J9Z8S1111111111111111111","oauthClientId":"oauth_app_2","occurredAt":"2026-02-28T23:59:59.999Z","org":"org_7f3a9c","personal":"j2msQekfyoM2EVGZd8tyf8NUcCo4zn6h2pbq+MZEYCQ=","receivedAt":"2026-03-01T00:00:00.000Z","target":{"id":"inv_2026_02","type":"invoice"},"type":"billing.invoice.paid","v":1}`,
    leafHash: "1afbc4c974378c9620df9d86a63907a36ec980925e73e9022e0e034f9eb1641c",
  },
];

/**
 * The leaf computed the way an auditor would, straight from the README's description, with
 * another RFC 8785 implementation and nothing from src/.
 */
function auditorLeafHash(
  orgId: string,
  entry: LeafEntry,
): { personal: string; leaf: string; hash: string } {
  const personal = canonicalize({
    actorName: entry.actor.name,
    actorAvatarUrl: entry.actor.avatarUrl,
    targetName: entry.target?.name ?? null,
    description: entry.description,
    ip: entry.ip,
    countryCode: entry.location?.countryCode ?? null,
    region: entry.location?.region ?? null,
    city: entry.location?.city ?? null,
    userAgent: entry.userAgent,
    oauthName: entry.oauth?.name ?? null,
    data: entry.data,
  }) as string;
  const digest = createHash("sha256")
    .update(Buffer.from(entry.commitment.salt as string, "base64"))
    .update(personal, "utf8")
    .digest("base64");
  const leaf = canonicalize({
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
      tokenRole: entry.actor.tokenRole,
      tokenLast4: entry.actor.tokenLast4,
    },
    target: entry.target === null ? null : { type: entry.target.type, id: entry.target.id },
    oauthClientId: entry.oauth?.clientId ?? null,
    personal: digest,
  }) as string;
  const hash = createHash("sha256").update(Uint8Array.of(0)).update(leaf, "utf8").digest("hex");
  return { personal, leaf, hash };
}

describe("the leaf's golden vectors", () => {
  it.each(golden)("$name", ({ entry, personal, leaf, leafHash }) => {
    expect(personalJson(entry)).toBe(personal);
    expect(entryLeafJson(goldenOrgId, entry)).toBe(leaf);
    expect(Buffer.from(entryLeaf(goldenOrgId, entry)).toString("utf8")).toBe(leaf);
    expect(hex(entryLeafHash(goldenOrgId, entry))).toBe(leafHash);
    const salt = Buffer.from(entry.commitment.salt as string, "base64");
    expect(Buffer.from(personalDigest(salt, entry)).toString("base64")).toBe(
      (JSON.parse(leaf) as { personal: string }).personal,
    );
    // And the auditor's way gives the same texts and hash.
    expect(auditorLeafHash(goldenOrgId, entry)).toEqual({ personal, leaf, hash: leafHash });
  });
});

type Mutation = [string, (entry: LeafEntry) => void];

const mutations: Mutation[] = [
  ["id", (e) => (e.id += "x")],
  ["type", (e) => (e.type = "repo.delete")],
  ["category", (e) => (e.category = "billing")],
  ["description", (e) => (e.description += ".")],
  ["occurredAt", (e) => (e.occurredAt = "2026-03-01T12:34:56.788Z")],
  ["receivedAt", (e) => (e.receivedAt = "2026-03-01T12:34:57.002Z")],
  ["hiddenByDefault", (e) => (e.hiddenByDefault = !e.hiddenByDefault)],
  ["actor.type", (e) => (e.actor.type = "token")],
  ["actor.id", (e) => (e.actor.id = "user_43")],
  ["actor.name", (e) => (e.actor.name = "Zoe Muller")],
  ["actor.avatarUrl", (e) => (e.actor.avatarUrl = null)],
  ["actor.tokenRole", (e) => (e.actor.tokenRole = "read")],
  ["actor.tokenLast4", (e) => (e.actor.tokenLast4 = "0000")],
  [
    "target.type",
    (e) => (e.target = { ...(e.target as NonNullable<LeafEntry["target"]>), type: "dataset" }),
  ],
  [
    "target.id",
    (e) => (e.target = { ...(e.target as NonNullable<LeafEntry["target"]>), id: "model_8" }),
  ],
  [
    "target.name",
    (e) => (e.target = { ...(e.target as NonNullable<LeafEntry["target"]>), name: null }),
  ],
  ["target", (e) => (e.target = null)],
  ["ip", (e) => (e.ip = "2001:db8:85a4::")],
  [
    "location.countryCode",
    (e) =>
      (e.location = { ...(e.location as NonNullable<LeafEntry["location"]>), countryCode: "AT" }),
  ],
  [
    "location.region",
    (e) =>
      (e.location = {
        ...(e.location as NonNullable<LeafEntry["location"]>),
        region: "Brandenburg",
      }),
  ],
  [
    "location.city",
    (e) =>
      (e.location = { ...(e.location as NonNullable<LeafEntry["location"]>), city: "Potsdam" }),
  ],
  ["userAgent", (e) => (e.userAgent = null)],
  ["oauth.clientId", (e) => (e.oauth = { clientId: "oauth_app_9", name: null })],
  ["oauth.name", (e) => (e.oauth = { clientId: "oauth_app_9", name: "x" })],
  ["data (a nested value)", (e) => ((e.data.renamed as { to: string }).to = "model-γ")],
  ["data (a number's value)", (e) => ((e.data.tags as unknown[])[3] = 4)],
  ["data (a member added)", (e) => (e.data.extra = null)],
  ["commitment.salt", (e) => (e.commitment = { salt: "AAECAwQFBgcICQoLDA0ODg==" })],
];

describe("the leaf hash", () => {
  const base = hex(entryLeafHash(goldenOrgId, userEntry));

  it.each(mutations)("changes when %s changes", (_field, mutate) => {
    const entry = structuredClone(userEntry);
    mutate(entry);
    expect(hex(entryLeafHash(goldenOrgId, entry))).not.toBe(base);
  });

  it("changes with the organisation, and with nothing the leaf leaves out", () => {
    expect(hex(entryLeafHash("org_other", userEntry))).not.toBe(base);
    const withExtras = {
      ...structuredClone(userEntry),
      seq: 17,
      location: {
        ...(userEntry.location as NonNullable<LeafEntry["location"]>),
        formatted: "Berlin, Berlin, DE",
      },
    } as LeafEntry;
    expect(hex(entryLeafHash(goldenOrgId, withExtras))).toBe(base);
  });

  it("needs a 16-byte salt in canonical base64", () => {
    for (const salt of [
      "",
      "AAECAwQFBgcICQoLDA0ODw",
      "AAECAwQFBgcICQoLDA0ODx==",
      "AAECAwQFBgcICQoLDA0O",
      "AAECAwQFBgcICQoLDA0ODw===",
    ]) {
      expect(() => entryLeafHash(goldenOrgId, { ...userEntry, commitment: { salt } })).toThrow(
        /16 bytes/,
      );
    }
    expect(() => personalDigest(new Uint8Array(15), userEntry)).toThrow(RangeError);
  });

  it("refuses entries whose fields are not of their types", () => {
    expect(() => entryLeafHash(goldenOrgId, { ...userEntry, id: 5 as unknown as string })).toThrow(
      /id must be a string/,
    );
    expect(() =>
      entryLeafHash(goldenOrgId, { ...userEntry, hiddenByDefault: "no" as unknown as boolean }),
    ).toThrow(/hiddenByDefault/);
    expect(() =>
      entryLeafHash(goldenOrgId, { ...userEntry, data: [] as unknown as Record<string, unknown> }),
    ).toThrow(/data must be an object/);
    expect(() => entryLeafHash(goldenOrgId, { ...userEntry, description: "\ud800" })).toThrow(
      /lone surrogate/,
    );
  });
});

describe("the specialised serialisers", () => {
  it("write exactly canonicalJson of the §3 objects, for any entry", () => {
    fc.assert(
      fc.property(
        leafEntryArbitrary,
        fc.string({ unit: "binary", minLength: 1 }),
        (entry, orgId) => {
          expect(personalJson(entry)).toBe(canonicalJson(personalObject(entry)));
          expect(personalJson(entry)).toBe(canonicalize(personalObject(entry)));
          const digest = Buffer.from(
            personalDigest(Buffer.from(entry.commitment.salt as string, "base64"), entry),
          ).toString("base64");
          expect(leafJson(orgId, entry, digest)).toBe(
            canonicalJson(leafObject(orgId, entry, digest)),
          );
          expect(entryLeafJson(orgId, entry)).toBe(canonicalize(leafObject(orgId, entry, digest)));
          expect(hex(entryLeafHash(orgId, entry))).toBe(auditorLeafHash(orgId, entry).hash);
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("an erased entry (issue 16)", () => {
  it("gives the same leaf from its kept personal digest, whatever its personal fields became", () => {
    fc.assert(
      fc.property(leafEntryArbitrary, (entry) => {
        const kept = Buffer.from(
          personalDigest(Buffer.from(entry.commitment.salt as string, "base64"), entry),
        ).toString("base64");
        const erased: LeafEntry = {
          ...entry,
          actor: { ...entry.actor, name: "erased-0123456789abcdef", avatarUrl: null },
          userAgent: null,
          description: "erased-0123456789abcdef did something",
          data: {},
          commitment: { personal: kept },
        };
        expect(hex(entryLeafHash("org_1", erased))).toBe(hex(entryLeafHash("org_1", entry)));
        // What the leaf holds in clear still counts.
        expect(hex(entryLeafHash("org_1", { ...erased, type: `${entry.type}x` }))).not.toBe(
          hex(entryLeafHash("org_1", entry)),
        );
      }),
      { numRuns: 200 },
    );
  });

  it("needs a 32-byte digest in canonical base64, and no salt beside it", () => {
    const digest = Buffer.alloc(32, 9).toString("base64");
    expect(() =>
      entryLeafHash("org_1", { ...userEntry, commitment: { personal: digest.slice(0, -2) } }),
    ).toThrow(/32 bytes/);
    expect(() =>
      entryLeafHash("org_1", {
        ...userEntry,
        commitment: { personal: digest, salt: "AAECAwQFBgcICQoLDA0ODw==" } as never,
      }),
    ).toThrow(/without a salt/);
  });
});
