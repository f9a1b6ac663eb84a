import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization, type Role, upsertUserMembership } from "./accounts.ts";
import { createDatabase, type Database, driversOf } from "./database.ts";
import {
  createPersonalAccessToken,
  createSession,
  findActivePersonalAccessTokenByHash,
  findActiveSessionByTokenHash,
  findOrgMembership,
  revokePersonalAccessToken,
} from "./sessions.ts";
import { prepareTestDatabase, testDatabaseUrl } from "./testing.ts";

// The per-request lookups are plain SQL (sessions.ts): these hold them to the rows Prisma wrote
// and reads back, and to every way a credential or a membership stops counting.

describe("the lookups of a signed-in request", () => {
  let db: Database;
  const suffix = randomBytes(4).toString("hex");
  const slug = `lookups-${suffix}`;
  const otherSlug = `lookups-other-${suffix}`;
  let userId: string;
  let strangerId: string;

  beforeAll(async () => {
    await prepareTestDatabase();
    db = createDatabase({ url: testDatabaseUrl, poolSize: 2, ormPoolSize: 1 });
    await createOrganization(db, { slug, name: "Lookups & Co", plan: "enterprise" });
    await createOrganization(db, { slug: otherSlug, name: "Other", plan: "team" });
    const addMember = async (who: string, name: string, orgSlug: string, role: Role) =>
      (
        await upsertUserMembership(db, {
          email: `${who}-${suffix}@example.test`,
          name,
          passwordHash: "!",
          orgSlug,
          role,
        })
      ).user.id;
    userId = await addMember("member", "Zoë Member", slug, "auditor");
    strangerId = await addMember("stranger", "Stranger", otherSlug, "admin");
  });
  afterAll(() => db.close());

  it("a token: every field as Prisma stores it, with its user", async () => {
    const tokenHash = randomBytes(32);
    const expiresAt = new Date(Date.now() + 86_400_000);
    const created = await createPersonalAccessToken(db, {
      userId,
      name: "laptop",
      prefix: "alp_abcd",
      tokenHash,
      expiresAt,
    });
    const found = await findActivePersonalAccessTokenByHash(db, tokenHash);
    expect(found).toEqual({
      token: created,
      user: { id: userId, email: `member-${suffix}@example.test`, name: "Zoë Member" },
    });
    expect(await findActivePersonalAccessTokenByHash(db, randomBytes(32))).toBeNull();
  });

  it("a token that expired or was revoked is not found", async () => {
    const expiredHash = randomBytes(32);
    await createPersonalAccessToken(db, {
      userId,
      name: "expired",
      prefix: "alp_exp1",
      tokenHash: expiredHash,
      expiresAt: new Date(Date.now() + 60_000),
    });
    expect(await findActivePersonalAccessTokenByHash(db, expiredHash)).not.toBeNull();
    expect(
      await findActivePersonalAccessTokenByHash(db, expiredHash, new Date(Date.now() + 60_000)),
    ).toBeNull();

    const revokedHash = randomBytes(32);
    const revoked = await createPersonalAccessToken(db, {
      userId,
      name: "revoked",
      prefix: "alp_rev1",
      tokenHash: revokedHash,
    });
    expect(await findActivePersonalAccessTokenByHash(db, revokedHash)).not.toBeNull();
    await revokePersonalAccessToken(db, { userId, id: revoked.id });
    expect(await findActivePersonalAccessTokenByHash(db, revokedHash)).toBeNull();
  });

  it("a session: every field a request uses, as Prisma stores it, with its user", async () => {
    const tokenHash = randomBytes(32);
    const created = await createSession(db, {
      userId,
      tokenHash,
      csrfToken: "csrf-token-value",
      expiresAt: new Date(Date.now() + 3_600_000),
    });
    const found = await findActiveSessionByTokenHash(db, tokenHash);
    const { tokenHash: _stored, ...expected } = created;
    expect(found).toEqual({
      session: expected,
      user: { id: userId, email: `member-${suffix}@example.test`, name: "Zoë Member" },
    });
    // Ended at its expiry, to the millisecond.
    expect(await findActiveSessionByTokenHash(db, tokenHash, created.expiresAt)).toBeNull();
    expect(await findActiveSessionByTokenHash(db, randomBytes(32))).toBeNull();
  });

  it("a membership: the organisation and role, and nothing for a stranger or an unknown slug", async () => {
    const prismaOrg = await driversOf(db).prisma.organization.findUniqueOrThrow({
      where: { slug },
    });
    expect(await findOrgMembership(db, slug, userId)).toEqual({
      org: { id: prismaOrg.id, slug, name: "Lookups & Co", plan: "enterprise" },
      role: "auditor",
    });
    expect(await findOrgMembership(db, slug, strangerId)).toBeNull();
    expect(await findOrgMembership(db, otherSlug, userId)).toBeNull();
    expect(await findOrgMembership(db, `missing-${suffix}`, userId)).toBeNull();
    expect((await findOrgMembership(db, otherSlug, strangerId))?.role).toBe("admin");
  });
});
