/**
 * Limits on what one event may hold as a whole, beyond each field's own schema. `data` schemas
 * are loose objects (the Hub adds fields), so without these a producer could store anything
 * there: a megabyte per event, nesting deep enough to overflow JSON.stringify's stack, or a NUL
 * character, which PostgreSQL's text and jsonb refuse — and a refused row used to fail its whole
 * job, every other event of the request with it.
 */

/**
 * The most bytes one event's JSON may take: the UTF-8 length of its compact JSON
 * (`JSON.stringify`), not counting `id` and `occurredAt`, which the API adds when they are absent
 * (so a worker checking the event again after that measures what the API measured).
 */
export const maxEventJsonBytes = 64 * 1024;

/**
 * The deepest an object or array may sit in an event: `data` itself is level 1, so `data.a.b`
 * holding an object is level 3. The catalog's own schemas need at most 3.
 */
export const maxEventDepth = 32;

/**
 * Said of a key `__proto__` anywhere in an event. JSON.parse keeps it as an ordinary key, but
 * assigning it to an object sets the object's prototype instead: zod's copy of a `data` object
 * drops it, so an event holding one would be stored without it. It is refused, as Fastify's JSON
 * parser (secure-json-parse) refuses it by default, rather than accepted and lost.
 */
export const prototypeKeyMessage =
  'the key "__proto__" is not accepted: JavaScript reads it as the object\'s prototype, so it cannot be stored as sent';

/** More issues than this in one event are not listed: the first ones say enough. */
const maxIssuesPerEvent = 10;

export interface ContentIssue {
  path: (string | number)[];
  message: string;
}

/**
 * Every string of the event free of NUL, no key `__proto__`, no object or array deeper than
 * `maxEventDepth`, and at most `maxEventJsonBytes` of JSON. The API runs this on every event, so it is one walk that
 * serialises nothing: the JSON is measured exactly only when a cheap upper bound (6 bytes per
 * UTF-16 unit, the most JSON.stringify and UTF-8 can make of one) says it might be too large.
 * Run on a parsed event: the envelope's objects are strict, so only `data` can hold unknown keys.
 */
export function eventContentIssues(event: Record<string, unknown>): ContentIssue[] {
  const walk = new ContentWalk();
  let bound = 2;
  for (const key in event) {
    const value = event[key];
    if (value === undefined || key === "id" || key === "occurredAt") continue;
    walk.path.push(key);
    bound += key.length * 6 + 4 + walk.visit(value, 0, key === "data");
    walk.path.pop();
  }
  if (walk.issues.length > 0 || bound <= maxEventJsonBytes) return walk.issues;
  const { id: _id, occurredAt: _occurredAt, ...measured } = event;
  const bytes = utf8Length(JSON.stringify(measured));
  if (bytes > maxEventJsonBytes) {
    walk.issues.push({
      path: [],
      message: `the event's JSON is ${bytes.toLocaleString("en")} bytes; at most ${maxEventJsonBytes.toLocaleString("en")} (64 KiB) are accepted`,
    });
  }
  return walk.issues;
}

class ContentWalk {
  readonly path: (string | number)[] = [];
  readonly issues: ContentIssue[] = [];

  /** Notes what breaks a rule in `value`, and answers an upper bound of its JSON's bytes. */
  visit(value: unknown, depth: number, unknownKeys: boolean): number {
    if (typeof value === "string") {
      if (value.includes("\u0000"))
        this.note([...this.path], "must not contain the NUL character (U+0000)");
      return value.length * 6 + 2;
    }
    if (typeof value !== "object" || value === null) return 24; // the longest number is 24 characters
    if (depth + 1 > maxEventDepth) {
      this.note(
        [...this.path],
        `must not nest objects or arrays more than ${maxEventDepth} levels deep`,
      );
      return 2;
    }
    let bound = 2;
    if (Array.isArray(value)) {
      for (let i = 0; i < value.length; i++) {
        this.path.push(i);
        bound += this.visit(value[i], depth + 1, unknownKeys) + 1;
        this.path.pop();
      }
      return bound;
    }
    const record = value as Record<string, unknown>;
    for (const key in record) {
      if (key === "__proto__") this.note([...this.path, key], prototypeKeyMessage);
      if (unknownKeys && key.includes("\u0000")) {
        // Named with the NUL written out, so the path can be read (and stored) as text.
        this.note(
          [...this.path, key.replaceAll("\u0000", "\\u0000")],
          "keys must not contain the NUL character (U+0000)",
        );
      }
      this.path.push(key);
      bound += key.length * 6 + 4 + this.visit(record[key], depth + 1, unknownKeys);
      this.path.pop();
    }
    return bound;
  }

  private note(path: (string | number)[], message: string): void {
    if (this.issues.length < maxIssuesPerEvent) this.issues.push({ path, message });
  }
}

/** The bytes of well-formed text in UTF-8 (JSON.stringify's output is: it escapes lone surrogates). */
function utf8Length(text: string): number {
  let bytes = text.length;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    if (code < 0x80) continue;
    if (code < 0x800) bytes += 1;
    else if (code >= 0xd800 && code <= 0xdbff) {
      bytes += 2; // a pair: 4 bytes for its 2 characters
      i++;
    } else bytes += 2;
  }
  return bytes;
}

/**
 * Every key `__proto__` in `value`, at any depth. For input zod has yet to copy (the content walk
 * sees zod's output, which no longer holds the ones it dropped).
 */
export function prototypeKeyIssues(value: unknown): ContentIssue[] {
  const issues: ContentIssue[] = [];
  const path: (string | number)[] = [];
  const visit = (item: unknown, depth: number) => {
    if (typeof item !== "object" || item === null || depth > maxEventDepth) return;
    if (Array.isArray(item)) {
      for (let i = 0; i < item.length && issues.length < maxIssuesPerEvent; i++) {
        path.push(i);
        visit(item[i], depth + 1);
        path.pop();
      }
      return;
    }
    for (const key of Object.keys(item)) {
      if (issues.length >= maxIssuesPerEvent) return;
      if (key === "__proto__") issues.push({ path: [...path, key], message: prototypeKeyMessage });
      path.push(key);
      visit((item as Record<string, unknown>)[key], depth + 1);
      path.pop();
    }
  };
  visit(value, 0);
  return issues;
}
