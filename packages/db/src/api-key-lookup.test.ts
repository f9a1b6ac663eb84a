import { createHash } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createApiKeyRecord,
  createOrganization,
  findOrgByApiKeyHash,
  revokeApiKey,
} from "./accounts.ts";
import { ormOf } from "./database.ts";
import { createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

const db = createTestDatabase();
const slug = uniqueSlug("key-lookup");
const hashOf = (secret: string) => createHash("sha256").update(secret).digest();

beforeAll(() => prepareTestDatabase());
afterAll(async () => {
  await ormOf(db).organization.deleteMany({ where: { slug } });
  await db.close();
});

describe("findOrgByApiKeyHash", () => {
  it("answers an active key's organisation and key, and null for a revoked or unknown key", async () => {
    const org = await createOrganization(db, { slug, name: "Key lookup", plan: "team" });
    const active = await createApiKeyRecord(db, {
      orgSlug: slug,
      name: "active",
      prefix: "alk_act",
      keyHash: hashOf(`${slug}-active`),
    });
    const revoked = await createApiKeyRecord(db, {
      orgSlug: slug,
      name: "revoked",
      prefix: "alk_rev",
      keyHash: hashOf(`${slug}-revoked`),
    });
    await revokeApiKey(db, { orgId: org.id, id: revoked.key.id });

    const found = await findOrgByApiKeyHash(db, hashOf(`${slug}-active`));
    expect(found).toEqual({
      keyId: active.key.id,
      lastUsedAt: null,
      org: { id: org.id, slug, name: "Key lookup", plan: "team", createdAt: org.createdAt },
    });
    expect(await findOrgByApiKeyHash(db, hashOf(`${slug}-revoked`))).toBeNull();
    expect(await findOrgByApiKeyHash(db, hashOf(`${slug}-unknown`))).toBeNull();
  });
});
