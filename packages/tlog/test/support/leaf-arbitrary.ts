import fc from "fast-check";
import type { LeafEntry } from "../../src/index.ts";

// Arbitrary entries of the query API's shape: any well-formed text, absent parts as null.

const text = fc.string({ unit: "binary", maxLength: 40 });
const nullableText = fc.option(text, { nil: null });
const timestamp = fc
  .date({
    min: new Date("2000-01-01T00:00:00Z"),
    max: new Date("2100-01-01T00:00:00Z"),
    noInvalidDate: true,
  })
  .map((date) => date.toISOString());

export const leafEntryArbitrary: fc.Arbitrary<LeafEntry> = fc.record({
  id: text,
  type: text,
  category: text,
  description: text,
  occurredAt: timestamp,
  receivedAt: timestamp,
  hiddenByDefault: fc.boolean(),
  actor: fc.record({
    type: fc.constantFrom("user", "token", "system"),
    id: text,
    name: text,
    avatarUrl: nullableText,
    tokenRole: nullableText,
    tokenLast4: nullableText,
  }),
  target: fc.option(fc.record({ type: text, id: text, name: nullableText }), { nil: null }),
  ip: nullableText,
  location: fc.option(
    fc.record({ countryCode: nullableText, region: nullableText, city: nullableText }),
    { nil: null },
  ),
  userAgent: nullableText,
  oauth: fc.option(fc.record({ clientId: text, name: nullableText }), { nil: null }),
  data: fc.dictionary(fc.string({ unit: "binary", maxLength: 12 }), fc.jsonValue({ maxDepth: 3 }), {
    maxKeys: 6,
  }),
  commitment: fc.uint8Array({ minLength: 16, maxLength: 16 }).map((salt) => ({
    salt: Buffer.from(salt).toString("base64"),
  })),
});
