import { createHash } from "node:crypto";
import { pipeline } from "node:stream/promises";
import { type Database, openEntryJsonStream } from "@auditlog/db";
import { type AuditEntry, nonHubEventTypes, type ParsedQuery } from "@auditlog/events";
import { CompactJsonLines } from "./compact-json-lines.ts";
import { EntryLines } from "./entry-lines.ts";

/** One item of the Hub's export (`@auditlog/events/hub-export-schema`). */
export interface HubExportItem {
  _id: string;
  createdAt: string;
  type: string;
  message: string;
  data?: unknown;
  ip?: string;
  location?: { formatted: string; country?: string; city?: string };
  userAgent?: string;
  author: { _id: string; user: string; avatarUrl: string; type: "user" | "system" };
  token?: {
    type: "access_token";
    id: string;
    role?: "read" | "write" | "fineGrained";
    last4?: string;
    deleted: boolean;
  };
  oauth?: { clientId: string; name?: string };
}

const objectIdPattern = /^[0-9a-f]{24}$/;

/**
 * The Hub's ids are 24-hex ObjectIds. Our generated ids carry one (`evt_<24 hex>`); any other
 * id maps to a stable digest, so the same entry always exports with the same `_id`.
 */
export function toObjectId(id: string, namespace: string): string {
  const embedded = /^[a-z]+_([0-9a-f]{24})$/.exec(id)?.[1];
  if (embedded) return embedded;
  if (objectIdPattern.test(id)) return id;
  return createHash("sha256").update(`${namespace}:${id}`).digest("hex").slice(0, 24);
}

function defaultAvatarUrl(actorId: string): string {
  const digest = createHash("sha256").update(actorId).digest("hex");
  return `https://www.gravatar.com/avatar/${digest}?d=identicon`;
}

const tokenRoles = new Set(["read", "write", "fineGrained"]);

export function toHubExportItem(entry: AuditEntry): HubExportItem {
  const item: HubExportItem = {
    _id: toObjectId(entry.id, "entry"),
    createdAt: entry.occurredAt,
    type: entry.type,
    message: entry.description,
    data: entry.data,
    author: {
      _id: toObjectId(entry.actor.id, "actor"),
      user: entry.actor.name,
      avatarUrl: entry.actor.avatarUrl ?? defaultAvatarUrl(entry.actor.id),
      type: entry.actor.type === "system" ? "system" : "user",
    },
  };
  if (entry.ip) item.ip = entry.ip;
  if (entry.location) {
    item.location = { formatted: entry.location.formatted };
    if (entry.location.countryCode) item.location.country = entry.location.countryCode;
    if (entry.location.city) item.location.city = entry.location.city;
  }
  if (entry.userAgent) item.userAgent = entry.userAgent;
  if (entry.actor.type === "token") {
    item.token = { type: "access_token", id: entry.actor.id, deleted: false };
    if (entry.actor.tokenRole && tokenRoles.has(entry.actor.tokenRole)) {
      item.token.role = entry.actor.tokenRole as "read" | "write" | "fineGrained";
    }
    if (entry.actor.tokenLast4) item.token.last4 = entry.actor.tokenLast4;
  }
  if (entry.oauth) {
    item.oauth = { clientId: entry.oauth.clientId };
    if (entry.oauth.name) item.oauth.name = entry.oauth.name;
  }
  return item;
}

/**
 * The Hub-compatible export of an organisation's entries matching `query` (newest first, at most
 * `max`, types the Hub's schema does not list left out), as the bytes of one JSON array:
 * PostgreSQL renders every item (`hubItemJsonSql`, byte for byte `toHubExportItem` above, which
 * stays the reference) and streams them with one COPY, as for the background exports; this
 * process only drops jsonb's spaces (`CompactJsonLines`), adds the array's brackets and drops the
 * last comma (`EntryLines`). Memory stays
 * a few socket chunks whatever the size. Stopping early (`return()` on the generator, a client
 * gone) closes the COPY's connection.
 */
export async function* hubExportChunks(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    max: number;
    /** The COPY's statement_timeout (ms): it runs as long as the client takes to read. */
    timeoutMs?: number;
  },
): AsyncGenerator<Buffer> {
  const query = {
    ...input.query,
    excludeTypes: [...new Set([...input.query.excludeTypes, ...nonHubEventTypes])],
  };
  const entries = await openEntryJsonStream(db, {
    orgId: input.orgId,
    query,
    shape: "hub",
    lineEnd: ",",
    limit: Math.max(0, input.max),
    ...(input.timeoutMs === undefined ? {} : { statementTimeoutMs: input.timeoutMs }),
  });
  const lines = new EntryLines({ format: "json" });
  const compact = new CompactJsonLines();
  const piped = pipeline(entries.stream, compact, lines);
  piped.catch(() => {});
  let failed = true;
  try {
    for await (const chunk of lines) yield chunk as Buffer;
    await piped;
    failed = false;
  } finally {
    if (failed) {
      lines.destroy();
      compact.destroy();
      entries.stream.destroy();
    }
    await entries.release(failed);
  }
}
