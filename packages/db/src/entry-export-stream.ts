import { pipeline, type Readable } from "node:stream";
import type { ParsedQuery } from "@auditlog/events";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { CopyOutLines } from "./copy-out-lines.ts";
import { type Database, sqlOf } from "./database.ts";
import { EntryExportLines, type SeqRange } from "./entry-export-lines.ts";

export type { SeqRange } from "./entry-export-lines.ts";

import { entryLeafColumns } from "./entry-leaf-lines.ts";
import { setEntryLineSession } from "./entry-line-reader.ts";
import { buildEntryFilter, type EntryQueryOptions } from "./entry-queries.ts";

/** A column as JSON text: escaped by PostgreSQL's `to_json`, `null` when NULL. */
const jsonValue = (expression: string) => `COALESCE(to_json(${expression})::text, 'null')`;
/** A time's text as `Date#toISOString` writes it: milliseconds, truncated from the stored microseconds. */
export const isoTimeTextSql = (column: string) =>
  `to_char(${column} AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"')`;
/** The same as a JSON string (`null` when NULL). */
const isoTime = (column: string) => `COALESCE('"' || ${isoTimeTextSql(column)} || '"', 'null')`;
/** A JSON object from [key, JSON text] pairs, keys in the order given. */
const jsonObject = (fields: [key: string, json: string][]) =>
  `'{${fields.map(([key, json], i) => `${i === 0 ? "" : ","}"${key}":' || ${json} || '`).join("")}}'`;
/** `toAuditEntry` tests truthiness, so an empty string counts as absent too. */
const present = (column: string) => `NULLIF(${column}, '') IS NOT NULL`;

/**
 * One entry as compact JSON text, rendered by PostgreSQL in the query API's shape
 * (`toAuditEntry`: the same keys in the same order). Exports stream millions of these, and
 * building them in JavaScript (25 columns parsed into objects, then turned back into JSON) cost
 * about 35 µs of the worker's main thread per entry; here the worker only moves bytes.
 * Concatenating `to_json` pieces costs PostgreSQL about 40% less than `json_build_object` (which
 * also writes `"key" : value` with spaces). `data` is jsonb, so its text has jsonb's spacing and
 * key order: the same JSON value as the API's, not the same bytes.
 */
export const entryJsonSql = jsonObject([
  ["id", jsonValue("id")],
  ["type", jsonValue("type")],
  ["category", jsonValue("category")],
  ["description", jsonValue("description")],
  ["occurredAt", isoTime("occurred_at")],
  ["receivedAt", isoTime("received_at")],
  ["hiddenByDefault", jsonValue("hidden_by_default")],
  [
    "actor",
    jsonObject([
      ["type", jsonValue("actor_type")],
      ["id", jsonValue("actor_id")],
      ["name", jsonValue("actor_name")],
      ["avatarUrl", jsonValue("actor_avatar_url")],
      ["tokenRole", jsonValue("actor_token_role")],
      ["tokenLast4", jsonValue("actor_token_last4")],
    ]),
  ],
  [
    "target",
    `CASE WHEN ${present("target_type")} AND ${present("target_id")} THEN ${jsonObject([
      ["type", jsonValue("target_type")],
      ["id", jsonValue("target_id")],
      ["name", jsonValue("target_name")],
    ])} ELSE 'null' END`,
  ],
  ["ip", jsonValue("host(ip)")],
  [
    "location",
    `CASE WHEN ${present("country_code")} OR ${present("region")} OR ${present("city")} THEN ${jsonObject(
      [
        [
          "formatted",
          jsonValue(
            "concat_ws(', ', NULLIF(city, ''), NULLIF(region, ''), NULLIF(country_code, ''))",
          ),
        ],
        ["countryCode", jsonValue("country_code")],
        ["region", jsonValue("region")],
        ["city", jsonValue("city")],
      ],
    )} ELSE 'null' END`,
  ],
  ["userAgent", jsonValue("user_agent")],
  [
    "oauth",
    `CASE WHEN ${present("oauth_client_id")} THEN ${jsonObject([
      ["clientId", jsonValue("oauth_client_id")],
      ["name", jsonValue("oauth_name")],
    ])} ELSE 'null' END`,
  ],
  ["data", "COALESCE(data, '{}'::jsonb)::text"],
  ["seq", "seq::text"],
  [
    "commitment",
    // An erased entry (issue 16) keeps its personal digest, and no salt.
    `CASE WHEN personal_digest IS NULL THEN ${jsonObject([
      ["salt", `'"' || encode(commit_salt, 'base64') || '"'`],
    ])} ELSE ${jsonObject([["personal", `'"' || encode(personal_digest, 'base64') || '"'`]])} END`,
  ],
]);

/** Text already known to need no JSON escaping (hex, fixed words), as a JSON string. */
const quoted = (expression: string) => `'"' || ${expression} || '"'`;
/** `,"key":value` when `condition` holds, else nothing: an optional member, not the first. */
const optionalMember = (condition: string, key: string, json: string) =>
  `CASE WHEN ${condition} THEN ',"${key}":' || ${json} ELSE '' END`;
/**
 * The Hub's `toObjectId`: the 24 hex of one of our ids (`evt_<24 hex>`), a 24-hex id as it is,
 * else the first 24 hex of SHA-256 of `namespace:id`.
 */
const objectId = (column: string, namespace: "entry" | "actor") => {
  // `^[a-z]+_[0-9a-f]{24}$` and `^[0-9a-f]{24}$` without regular expressions, which cost
  // PostgreSQL about as much as the rest of the line: `ltrim(x, set) = ''` holds when every
  // character of x is in the set.
  const hex = "'0123456789abcdef'";
  return `CASE WHEN length(${column}) > 25 AND substr(${column}, length(${column}) - 24, 1) = '_'
          AND ltrim(left(${column}, -25), 'abcdefghijklmnopqrstuvwxyz') = ''
          AND ltrim(right(${column}, 24), ${hex}) = '' THEN right(${column}, 24)
        WHEN length(${column}) = 24 AND ltrim(${column}, ${hex}) = '' THEN ${column}
        ELSE left(encode(sha256(convert_to('${namespace}:' || ${column}, 'UTF8')), 'hex'), 24) END`;
};
/**
 * One entry as an item of the Hub-compatible export, rendered by PostgreSQL as
 * `JSON.stringify(toHubExportItem(toAuditEntry(row)))` writes it (`@auditlog/exports`, which
 * keeps that function as the reference the tests compare these bytes with): the same members in
 * the same order, optional ones left out under the same conditions, no space outside strings but
 * in `data`. `data` is jsonb's text, whose `": "` and `", "` the reader drops
 * (`CompactJsonLines`: PostgreSQL has no compact output for jsonb, and a regular expression
 * doubled the cost of each line). The result is byte for byte what JSON.stringify writes, but
 * for two cases where only the bytes differ, not the value: an object holding integer-like keys
 * (`"10"`) after others (JavaScript lists those first; jsonb by length, then bytes) and numbers
 * JavaScript writes with an exponent (`1e+21`; jsonb's numeric writes every digit).
 */
export const hubItemJsonSql = `'{"_id":' || ${quoted(objectId("id", "entry"))}
  || ',"createdAt":' || ${isoTime("occurred_at")}
  || ',"type":' || ${jsonValue("type")}
  || ',"message":' || ${jsonValue("description")}
  || ',"data":' || COALESCE(data, '{}'::jsonb)::text
  || ',"author":{"_id":' || ${quoted(objectId("actor_id", "actor"))}
  || ',"user":' || ${jsonValue("actor_name")}
  || ',"avatarUrl":' || COALESCE(to_json(actor_avatar_url)::text, ${quoted(
    `'https://www.gravatar.com/avatar/' || encode(sha256(convert_to(actor_id, 'UTF8')), 'hex') || '?d=identicon'`,
  )})
  || ',"type":' || CASE WHEN actor_type = 'system' THEN '"system"' ELSE '"user"' END || '}'
  || ${optionalMember("ip IS NOT NULL", "ip", jsonValue("host(ip)"))}
  || ${optionalMember(
    `${present("country_code")} OR ${present("region")} OR ${present("city")}`,
    "location",
    `'{"formatted":' || ${jsonValue(
      "concat_ws(', ', NULLIF(city, ''), NULLIF(region, ''), NULLIF(country_code, ''))",
    )} || ${optionalMember(present("country_code"), "country", jsonValue("country_code"))}
       || ${optionalMember(present("city"), "city", jsonValue("city"))} || '}'`,
  )}
  || ${optionalMember(present("user_agent"), "userAgent", jsonValue("user_agent"))}
  || ${optionalMember(
    "actor_type = 'token'",
    "token",
    `'{"type":"access_token","id":' || ${jsonValue("actor_id")} || ',"deleted":false'
       || ${optionalMember("actor_token_role IN ('read', 'write', 'fineGrained')", "role", jsonValue("actor_token_role"))}
       || ${optionalMember(present("actor_token_last4"), "last4", jsonValue("actor_token_last4"))} || '}'`,
  )}
  || ${optionalMember(
    present("oauth_client_id"),
    "oauth",
    `'{"clientId":' || ${jsonValue("oauth_client_id")}
       || ${optionalMember(present("oauth_name"), "name", jsonValue("oauth_name"))} || '}'`,
  )}
  || '}'`;

/**
 * `SELECT <one line per row> FROM <table>`: PostgreSQL's rendering of `openEntryJsonStream`'s
 * lines, before its filter and order. `table` is for the tests, which compare it with
 * `EntryExportLines` on rows no constraint holds back.
 */
export function entryLinesSelectSql(
  input: { lineEnd?: "" | ","; lineDigest?: boolean; shape?: "entry" | "hub" },
  table = "audit_entries",
): string {
  const lineEnd = input.lineEnd === "," ? ` || ','` : "";
  // The entry's text is rendered once (a LATERAL that PostgreSQL inlines), then hashed.
  const json = input.shape === "hub" ? hubItemJsonSql : entryJsonSql;
  return input.lineDigest
    ? `SELECT left(r.j, -1) || ',"lineDigest":"' || encode(sha256(convert_to(r.j, 'UTF8')), 'base64') || '"}'${lineEnd}
        FROM ${table}, LATERAL (SELECT ${json} AS j) r`
    : `SELECT ${json}${lineEnd} FROM ${table}`;
}

/**
 * COPY's CSV mode with a quote and a delimiter that JSON text never holds (JSON escapes every
 * control character) writes each row's one field as it is, with no quoting or backslash
 * escaping: the output is exactly one JSON entry per line, i.e. NDJSON.
 */
export const rawLinesCopyOptions = `(FORMAT csv, DELIMITER E'\\x02', QUOTE E'\\x01')`;

/** COPY takes no bind parameters: each `$n` of a filter becomes an escaped literal instead. */
export function inlineParameters(
  sql: string,
  values: readonly unknown[],
  escapeLiteral: (value: string) => string,
): string {
  const literal = (value: unknown): string => {
    if (Array.isArray(value)) return `ARRAY[${value.map(literal).join(",")}]`;
    if (typeof value === "string") return escapeLiteral(value);
    if (typeof value === "number" && Number.isFinite(value)) return String(value);
    if (typeof value === "boolean") return value ? "true" : "false";
    if (value instanceof Date) return escapeLiteral(value.toISOString());
    throw new TypeError(`cannot inline a parameter of type ${typeof value}`);
  };
  // One pass over the template: text put in by a literal is never scanned again.
  return sql.replace(/\$(\d+)/g, (_, index: string) => {
    const position = Number(index) - 1;
    if (position < 0 || position >= values.length) {
      throw new RangeError(`no value for parameter $${index}`);
    }
    return literal(values[position]);
  });
}

export interface EntryJsonStream {
  /**
   * Every matching entry, newest first, one JSON object per line: `{…}\n` (NDJSON), or with
   * `lineEnd: ","` `{…},\n`, the lines of a JSON array but for the last comma.
   */
  stream: Readable;
  /**
   * Ends the statement's transaction and gives the connection back: call once the stream has
   * ended or failed. After a failure or an early stop the connection is closed instead, because
   * it may still be in the middle of the COPY.
   */
  release(failed: boolean): Promise<void>;
  /**
   * With `renderer: "node"`: the entries the stream has given so far, with their lowest and
   * highest seq (complete once it has ended). PostgreSQL's rendering does not count them.
   */
  seqs?: SeqRange;
}

/**
 * Every entry of an organisation matching a query, newest first, as one `COPY (SELECT …) TO
 * STDOUT`: a single statement, so the whole export reads one consistent snapshot, and memory is
 * the socket's chunks, not rows.
 */
export async function openEntryJsonStream(
  db: Database,
  input: {
    orgId: string;
    query: ParsedQuery;
    options?: EntryQueryOptions;
    /** Appended to every entry's JSON: `,` gives a JSON array's separators without a copy. */
    lineEnd?: "" | ",";
    /**
     * Adds `"lineDigest"` as the last member of every entry: base64 SHA-256 of the UTF-8 of the
     * entry's JSON as it would be without that member. A verifier can then tell which entry of
     * a file was changed, down to one byte (exports).
     */
    lineDigest?: boolean;
    /** `hub`: each line is an item of the Hub-compatible export (`hubItemJsonSql`). */
    shape?: "entry" | "hub";
    /**
     * Who renders the lines: PostgreSQL (`entryJsonSql`, `hubItemJsonSql`), or, for the entry
     * shape only, this process from the plain COPY text of the columns (`EntryExportLines`):
     * the same bytes, for about a tenth of PostgreSQL's CPU per entry (issue 21 part 4).
     */
    renderer?: "postgres" | "node";
    /** At most this many entries, the newest. */
    limit?: number;
    /**
     * The COPY's own `statement_timeout` (ms), instead of the handle's: a streamed answer's
     * statement lasts as long as its reader takes, not only PostgreSQL's work.
     */
    statementTimeoutMs?: number;
  },
): Promise<EntryJsonStream> {
  const client = await sqlOf(db).connect();
  let released = false;
  const release = async (failed: boolean) => {
    if (released) return;
    released = true;
    if (failed) {
      client.release(true);
      return;
    }
    try {
      await client.query("COMMIT");
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  };
  try {
    const { where, params } = buildEntryFilter(input.orgId, input.query, input.options);
    const filter = inlineParameters(where, params.values, (value) => client.escapeLiteral(value));
    // Parallel workers would pass every rendered line to the leader through shared memory:
    // about 15% more CPU for the same COPY, which the worker's compression needs on a small
    // machine (one process renders about 150,000 entries/s here).
    await client.query("BEGIN READ ONLY");
    await client.query("SET LOCAL max_parallel_workers_per_gather = 0");
    if (input.statementTimeoutMs !== undefined) {
      if (!(Number.isSafeInteger(input.statementTimeoutMs) && input.statementTimeoutMs >= 0)) {
        throw new RangeError(`statementTimeoutMs must be a whole number of ms`);
      }
      await client.query(`SET LOCAL statement_timeout = ${input.statementTimeoutMs}`);
    }
    if (input.limit !== undefined && !(Number.isSafeInteger(input.limit) && input.limit >= 0)) {
      throw new RangeError(`limit must be a whole number, not ${input.limit}`);
    }
    const limit = input.limit === undefined ? "" : ` LIMIT ${input.limit}`;
    if (input.renderer === "node") {
      if (input.shape === "hub") throw new TypeError("the hub shape is rendered by PostgreSQL");
      // The times come as UTC ISO text, read by the renderer.
      await setEntryLineSession(client);
      const copy = client.query(
        new CopyOutLines(
          `COPY (SELECT ${entryLeafColumns} FROM audit_entries WHERE ${filter}
            ORDER BY occurred_at DESC, id DESC${limit}) TO STDOUT`,
          // A socket read or two ahead: gzip, not PostgreSQL, sets the pace, and the worker's
          // memory stays flat.
          128 * 1024,
        ) as unknown as pg.Submittable,
      ) as unknown as CopyOutLines;
      const lines = new EntryExportLines({
        lineEnd: input.lineEnd === "," ? "," : "",
        lineDigest: input.lineDigest === true,
      });
      // Either side failing, or the reader giving up, destroys both: release(true) then
      // closes the connection in the middle of its COPY.
      pipeline(copy, lines, () => {});
      return { stream: lines, release, seqs: lines.seqs };
    }
    const select = entryLinesSelectSql(input);
    const stream = client.query(
      copyTo(
        `COPY (${select} WHERE ${filter}
          ORDER BY occurred_at DESC, id DESC${limit}) TO STDOUT ${rawLinesCopyOptions}`,
      ),
    );
    return { stream, release };
  } catch (error) {
    await release(true);
    throw error;
  }
}
