// What `verify` (issue 14) reads of each entry: the columns of its leaf as PostgreSQL's COPY text
// (`openLogSnapshot`), parsed here into the very values `toAuditEntry` gives the API, the feed
// and the tree builder. COPY costs PostgreSQL a fraction of rendering JSON, and the pg driver's
// per-row parsing would run on verify's main thread; these lines are cut into chunks and parsed
// and hashed in worker threads, which import this module alone (`@auditlog/db/entry-lines`):
// no driver, no Prisma.

/** The fields of an entry its leaf commits to (@auditlog/tlog's `LeafEntry`). */
export interface EntryLeafFields {
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
  commitment: { salt: string };
}

/** The columns, in the order `parseEntryLine` reads them. */
export const entryLeafColumns = `seq, id, type, category, description, hidden_by_default,
  occurred_at, received_at, actor_type, actor_id, actor_name, actor_avatar_url, actor_token_role,
  actor_token_last4, target_type, target_id, target_name, host(ip), country_code, region, city,
  user_agent, oauth_client_id, oauth_name, data, encode(commit_salt, 'base64')`;

const COLUMN_COUNT = 26;

/** COPY text format: `\N` is NULL, and a backslash escapes itself and control characters. */
function unescapeField(field: string): string | null {
  if (field === "\\N") return null;
  if (!field.includes("\\")) return field;
  return field.replace(/\\(.)/g, (_, c: string) => {
    switch (c) {
      case "n":
        return "\n";
      case "r":
        return "\r";
      case "t":
        return "\t";
      case "b":
        return "\b";
      case "f":
        return "\f";
      case "v":
        return "\v";
      default:
        return c;
    }
  });
}

/**
 * A timestamptz's text (session TimeZone UTC, DateStyle ISO) as `toAuditEntry` writes it: the pg
 * driver (postgres-date) builds a Date with `1000 * parseFloat(fraction)` milliseconds, which
 * Date truncates; the same arithmetic here gives the same text, microseconds and all.
 */
const TIMESTAMP = /^(\d{4,})-(\d{2})-(\d{2}) (\d{2}):(\d{2}):(\d{2})(\.\d+)?\+00$/;
function slowIsoTime(text: string, column: string): string {
  const m = TIMESTAMP.exec(text);
  if (!m) throw new TypeError(`${column} is not a time`);
  const ms = m[7] ? 1000 * Number.parseFloat(m[7]) : 0;
  const year = Number(m[1]);
  const date = new Date(
    Date.UTC(year, Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]), Number(m[6]), ms),
  );
  if (year < 100) date.setUTCFullYear(year);
  return date.toISOString();
}

// The common case without Date: a four-digit year from 1000 and at most milliseconds. Each
// fraction's milliseconds come from the same arithmetic as the driver's, worked out once.
const FAST_TIME = /^[1-9]\d{3}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,3})?\+00$/;
const milliseconds = new Map<string, string>([["", "000"]]);
for (let digits = 1; digits <= 3; digits++) {
  for (let n = 0; n < 10 ** digits; n++) {
    const fraction = `.${String(n).padStart(digits, "0")}`;
    const ms = Math.trunc(1000 * Number.parseFloat(fraction));
    milliseconds.set(fraction, String(ms).padStart(3, "0"));
  }
}
function isoTime(text: string | null | undefined, column: string): string {
  if (typeof text !== "string") throw new TypeError(`${column} is not a time`);
  if (!FAST_TIME.test(text)) return slowIsoTime(text, column);
  return `${text.slice(0, 10)}T${text.slice(11, 19)}.${milliseconds.get(text.slice(19, -3))}Z`;
}

/** One COPY text line (no newline) as its seq and the entry fields the leaf commits to. */
export function parseEntryLine(line: string): { seq: number; entry: EntryLeafFields } {
  const raw = line.split("\t");
  if (raw.length !== COLUMN_COUNT) throw new TypeError(`a row has ${raw.length} columns`);
  const f = raw.map(unescapeField);
  const [seqText, id, type, category, description, hidden] = f;
  const [actorType, actorId, actorName, avatarUrl, tokenRole, tokenLast4] = f.slice(8, 14);
  const [targetType, targetId, targetName, ip, countryCode, region, city] = f.slice(14, 21);
  const [userAgent, oauthClientId, oauthName, data, salt] = f.slice(21, 26);
  // Exactly toAuditEntry's choices: an empty string counts as absent where it tests truthiness.
  const entry = {
    id,
    type,
    category,
    description,
    hiddenByDefault: hidden === "t" ? true : hidden === "f" ? false : hidden,
    occurredAt: isoTime(f[6], "occurred_at"),
    receivedAt: isoTime(f[7], "received_at"),
    actor: {
      type: actorType,
      id: actorId,
      name: actorName,
      avatarUrl,
      tokenRole,
      tokenLast4,
    },
    target: targetType && targetId ? { type: targetType, id: targetId, name: targetName } : null,
    ip,
    location: countryCode || region || city ? { countryCode, region, city } : null,
    userAgent,
    oauth: oauthClientId ? { clientId: oauthClientId, name: oauthName } : null,
    data: data === null || data === undefined ? {} : JSON.parse(data),
    commitment: { salt },
    // A NULL where the API has a string is passed on as it is: the leaf refuses it.
  } as unknown as EntryLeafFields;
  return { seq: Number(seqText), entry };
}
