import { z } from "zod";
import { getEventDefinition } from "./catalog/index.ts";
import type { Actor, Target } from "./envelope.ts";

/**
 * Erasure (issue 16, GDPR art. 17): the contract of `POST /v1/orgs/:org/erasures` and the one
 * rule of what an erasure changes in an entry, shared by the API and the CLI.
 */

export const createErasureRequestSchema = z.strictObject({
  /** The person's actor id, as the sending platform gives it in `actor.id`. */
  actorId: z.string().min(1).max(200),
});
export type CreateErasureRequest = z.infer<typeof createErasureRequestSchema>;

export const erasureSchema = z.object({
  id: z.string(),
  actorId: z.string(),
  /** What the log now shows instead of the person's name: the same for the same person. */
  pseudonym: z.string(),
  status: z.enum(["completed"]),
  /** Entries whose personal fields changed. */
  entries: z.number().int().min(0),
  /** Dead letters (refused events, stored raw) that named the person: deleted. */
  deadLetters: z.number().int().min(0),
  /** Finished export files that could hold the person's entries: deleted. */
  exportsDeleted: z.number().int().min(0),
  requestedBy: z.string(),
  createdAt: z.iso.datetime(),
});
export type Erasure = z.infer<typeof erasureSchema>;
export const erasureListSchema = z.object({ erasures: z.array(erasureSchema) });

/** The person an erasure is about. */
export interface ErasedPerson {
  actorId: string;
  pseudonym: string;
  /** Every name the person's entries carry (as actor or as target). */
  names: readonly string[];
}

/** The fields of an entry an erasure reads, and (all but type and ids) may rewrite. */
export interface ErasableEntry {
  type: string;
  description: string;
  actor: { type: Actor["type"]; id: string; name: string; avatarUrl: string | null };
  target: { type: string; id: string; name: string | null } | null;
  userAgent: string | null;
  data: Record<string, unknown>;
}

export interface ErasedFields {
  actorName: string;
  actorAvatarUrl: string | null;
  userAgent: string | null;
  targetName: string | null;
  description: string;
  data: Record<string, unknown>;
}

/** Whether a value names the person: one of their names or their id, whatever the case. */
function identifies(value: unknown, identifiers: ReadonlySet<string>): value is string {
  return typeof value === "string" && identifiers.has(value.toLowerCase());
}

/** `data` with the values at `path` that identify the person replaced (a copy where changed). */
function replaceAt(
  value: unknown,
  segments: readonly string[],
  replace: (value: unknown) => unknown,
): unknown {
  if (segments.length === 0) return replace(value);
  const [head, ...rest] = segments as [string, ...string[]];
  if (head.endsWith("[]")) {
    const key = head.slice(0, -2);
    const container = key === "" ? value : (value as Record<string, unknown> | null)?.[key];
    if (!Array.isArray(container)) return value;
    const replaced = container.map((element) => replaceAt(element, rest, replace));
    if (key === "") return replaced;
    return { ...(value as Record<string, unknown>), [key]: replaced };
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) return value;
  const record = value as Record<string, unknown>;
  if (!(head in record)) return value;
  return { ...record, [head]: replaceAt(record[head], rest, replace) };
}

const escapeRegExp = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

/**
 * Replaces the person's names where they stand as words in free text (a query such as
 * `actor:alice`, a reason): names shorter than 3 characters are left, they would match parts of
 * unrelated words.
 */
function replaceNames(text: string, person: ErasedPerson): string {
  let result = text;
  for (const name of person.names) {
    if (name.length < 3) continue;
    const word = new RegExp(`(?<![\\p{L}\\p{N}_])${escapeRegExp(name)}(?![\\p{L}\\p{N}_])`, "giu");
    result = result.replace(word, person.pseudonym);
  }
  return result;
}

/** Every string inside `value` with the person's names replaced (copies only where changed). */
function replaceNamesDeep(value: unknown, person: ErasedPerson): unknown {
  if (typeof value === "string") return replaceNames(value, person);
  if (Array.isArray(value)) return value.map((element) => replaceNamesDeep(element, person));
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, element]) => [key, replaceNamesDeep(element, person)]),
    );
  }
  return value;
}

/** Splits `users[].user` into `users[]`, `user`. */
function pathSegments(path: string): string[] {
  return path.split(".");
}

/**
 * What an erasure makes of one entry: where the person is the actor, the name becomes the
 * pseudonym and the avatar URL and user agent go; where the person is the target, its name
 * becomes the pseudonym; in `data`, the values the catalog marks personal that identify the
 * person become the pseudonym; the description is rendered again from what remains (it holds
 * the names); and the person's names still standing as words in free text (the description, any
 * string of `data`, such as an export's query `actor:alice`) are replaced. Null when the entry does not change.
 */
export function eraseFromEntry(entry: ErasableEntry, person: ErasedPerson): ErasedFields | null {
  const identifiers = new Set(
    [...person.names, person.actorId].filter((name) => name !== "").map((n) => n.toLowerCase()),
  );
  const isActor = entry.actor.id === person.actorId;
  const isTarget = entry.target?.id === person.actorId;
  let data = entry.data;
  const definition = getEventDefinition(entry.type);
  for (const path of definition?.personalData ?? []) {
    data = replaceAt(data, pathSegments(path), (value) =>
      identifies(value, identifiers) ? person.pseudonym : value,
    ) as Record<string, unknown>;
  }
  data = replaceNamesDeep(data, person) as Record<string, unknown>;
  const actorName = isActor ? person.pseudonym : entry.actor.name;
  const targetName =
    isTarget && entry.target?.name ? person.pseudonym : (entry.target?.name ?? null);
  let description = entry.description;
  if (definition) {
    try {
      const actor = { ...entry.actor, name: actorName } as Actor;
      const target = entry.target
        ? ({
            type: entry.target.type,
            id: entry.target.id,
            name: targetName ?? undefined,
          } as Target)
        : undefined;
      description = definition.describe({ actor, target, data });
    } catch {
      // Stored data the current catalog cannot render (an older shape): the names are replaced
      // in the stored description below instead.
    }
  }
  description = replaceNames(description, person);
  const erased: ErasedFields = {
    actorName,
    actorAvatarUrl: isActor ? null : entry.actor.avatarUrl,
    userAgent: isActor ? null : entry.userAgent,
    targetName,
    description,
    data,
  };
  const unchanged =
    erased.actorName === entry.actor.name &&
    erased.actorAvatarUrl === entry.actor.avatarUrl &&
    erased.userAgent === entry.userAgent &&
    erased.targetName === (entry.target?.name ?? null) &&
    erased.description === entry.description &&
    JSON.stringify(data) === JSON.stringify(entry.data);
  return unchanged ? null : erased;
}
