import { describe, expect, it } from "vitest";
import { eventDefinitions } from "./catalog/index.ts";
import { type ErasableEntry, eraseFromEntry } from "./erasure.ts";

const alice = {
  actorId: "usr_a1",
  pseudonym: "erased-0011223344556677",
  names: ["Alice Z", "alicez"],
};

function entry(overrides: Partial<ErasableEntry>): ErasableEntry {
  return {
    type: "repo.create",
    description: "Alice Z created model acme/bert",
    actor: { type: "user", id: "usr_a1", name: "Alice Z", avatarUrl: "https://a.example/a.png" },
    target: null,
    userAgent: "Agent/1",
    data: { repo: { type: "model", name: "acme/bert" } },
    ...overrides,
  };
}

/** The values at a personalData path of an object (`users[].user`). */
function valuesAt(value: unknown, path: string): unknown[] {
  let current: unknown[] = [value];
  for (const segment of path.split(".")) {
    const key = segment.endsWith("[]") ? segment.slice(0, -2) : segment;
    current = current.flatMap((v) => {
      const next = key === "" ? v : (v as Record<string, unknown> | null)?.[key];
      if (segment.endsWith("[]")) return Array.isArray(next) ? next : [];
      return next === undefined ? [] : [next];
    });
  }
  return current;
}

describe("the catalog's personalData marks", () => {
  it("name string fields that exist in each marked type's example", () => {
    const marked = eventDefinitions.filter((d) => (d.personalData ?? []).length > 0);
    expect(marked.length).toBeGreaterThanOrEqual(10);
    for (const definition of marked) {
      for (const path of definition.personalData ?? []) {
        const values = valuesAt(definition.example, path);
        expect(values.length, `${definition.type} ${path}`).toBeGreaterThan(0);
        for (const v of values) expect(typeof v, `${definition.type} ${path}`).toBe("string");
      }
    }
  });
});

describe("eraseFromEntry", () => {
  it("replaces the actor's name, avatar and user agent, and renders the description again", () => {
    expect(eraseFromEntry(entry({}), alice)).toEqual({
      actorName: alice.pseudonym,
      actorAvatarUrl: null,
      userAgent: null,
      targetName: null,
      description: `${alice.pseudonym} created model acme/bert`,
      data: { repo: { type: "model", name: "acme/bert" } },
    });
  });

  it("replaces marked data and the target's name where someone else acted, and nothing else", () => {
    const erased = eraseFromEntry(
      entry({
        type: "org.change_role",
        description: "carol changed alicez's role from read to write",
        actor: { type: "user", id: "usr_c", name: "carol", avatarUrl: "https://a.example/c.png" },
        target: { type: "user", id: "usr_a1", name: "Alice Z" },
        data: { user: "ALICEZ", oldRole: "read", newRole: "write" },
      }),
      alice,
    );
    expect(erased).toEqual({
      actorName: "carol",
      actorAvatarUrl: "https://a.example/c.png",
      userAgent: "Agent/1",
      targetName: alice.pseudonym,
      description: `carol changed ${alice.pseudonym}'s role from read to write`,
      data: { user: alice.pseudonym, oldRole: "read", newRole: "write" },
    });
  });

  it("replaces each matching element of a marked array, and leaves other people", () => {
    const erased = eraseFromEntry(
      entry({
        type: "resource_group.add_users",
        actor: { type: "user", id: "usr_c", name: "carol", avatarUrl: null },
        description: "carol added alicez as write, bob as read to research",
        data: {
          resourceGroup: "research",
          users: [
            { user: "alicez", role: "write" },
            { user: "bob", role: "read" },
          ],
        },
      }),
      alice,
    );
    expect(erased?.data.users).toEqual([
      { user: alice.pseudonym, role: "write" },
      { user: "bob", role: "read" },
    ]);
    expect(erased?.description).not.toContain("alicez");
    expect(erased?.description).toContain("bob");
  });

  it("replaces names standing as words in free text, not inside other words", () => {
    const erased = eraseFromEntry(
      entry({
        type: "org.audit_log.export",
        actor: { type: "user", id: "usr_c", name: "carol", avatarUrl: null },
        description: 'carol exported the audit log matching "actor:alicez OR actor:alicezz"',
        data: { query: "actor:alicez OR actor:alicezz" },
      }),
      alice,
    );
    expect(erased?.data.query).toBe(`actor:${alice.pseudonym} OR actor:alicezz`);
    expect(erased?.description).toBe(
      `carol exported the audit log matching "actor:${alice.pseudonym} OR actor:alicezz"`,
    );
  });

  it("answers null for an entry that does not hold the person", () => {
    const other = entry({
      actor: { type: "user", id: "usr_c", name: "carol", avatarUrl: null },
      description: "carol created model acme/bert",
    });
    expect(eraseFromEntry(other, alice)).toBeNull();
  });
});
