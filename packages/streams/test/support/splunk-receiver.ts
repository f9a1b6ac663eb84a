import type { IncomingHttpHeaders } from "node:http";
import type { AuditEntry } from "@auditlog/events";
import { type Answer, ReceiverServer } from "./receiver-server.ts";

/** An HEC answer: `{ text, code }` as Splunk documents them ("Troubleshoot HTTP Event Collector"). */
function hec(status: number, text: string, code: number, extra: object = {}): Answer {
  return { status, body: JSON.stringify({ text, code, ...extra }) };
}

/**
 * Splits concatenated JSON objects (`{…}{…}` or `{…}\n{…}`), as HEC reads its event endpoint.
 * Null when the text is not a sequence of JSON objects.
 */
export function splitConcatenatedJson(text: string): unknown[] | null {
  const values: unknown[] = [];
  let depth = 0;
  let inString = false;
  let start = -1;
  for (let i = 0; i < text.length; i++) {
    const ch = text.charCodeAt(i);
    if (inString) {
      if (ch === 92 /* \\ */) i += 1;
      else if (ch === 34 /* " */) inString = false;
      continue;
    }
    if (depth === 0) {
      if (ch === 32 || ch === 10 || ch === 13 || ch === 9) continue;
      if (ch !== 123 /* { */) return null;
      start = i;
    }
    if (ch === 34) inString = true;
    else if (ch === 123 || ch === 91) depth += 1;
    else if (ch === 125 || ch === 93) {
      depth -= 1;
      if (depth === 0) {
        try {
          values.push(JSON.parse(text.slice(start, i + 1)));
        } catch {
          return null;
        }
      }
    }
  }
  return depth === 0 && !inString ? values : null;
}

/**
 * A Splunk HTTP Event Collector as documented: `POST /services/collector/event` (or
 * `/services/collector`), `Authorization: Splunk <token>` (missing: 401 code 2; not of that form:
 * 401 code 3; unknown token: 403 code 4), a body of concatenated JSON event objects (empty: 400
 * code 5; unreadable: 400 code 6 with `invalid-event-number`; no `event`: 400 code 12; blank
 * `event`: 400 code 13), `time` a number of epoch seconds, `host`/`source`/`sourcetype`/`index`
 * strings, `fields` a flat object; an index not allowed: 400 code 7. Success: 200
 * `{"text":"Success","code":0}`. Scripted failures answer 503 "Server is busy" (code 9) and such.
 * Each event's `event` is taken as an audit entry, which must carry `id` and `seq`.
 */
export class SplunkHecReceiver extends ReceiverServer {
  constructor(
    readonly token: string,
    private readonly options: { allowedIndexes?: string[] } = {},
  ) {
    super();
  }

  /** The events accepted (the whole HEC objects, not only their `event`). */
  readonly events: Record<string, unknown>[] = [];

  protected failureAnswer(status: number): Answer {
    if (status === 503) return hec(503, "Server is busy", 9);
    if (status === 500) return hec(500, "Internal server error", 8);
    return hec(status, "Request failed", 8);
  }

  protected handle(request: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
  }) {
    const path = request.path.split("?")[0];
    if (
      request.method !== "POST" ||
      (path !== "/services/collector/event" && path !== "/services/collector")
    ) {
      return { answer: hec(404, "The requested URL was not found on this server.", 404) };
    }
    const auth = request.headers.authorization;
    if (!auth) return { answer: hec(401, "Token is required", 2) };
    const match = /^Splunk (\S+)$/.exec(auth);
    if (!match) return { answer: hec(401, "Invalid authorization", 3) };
    if (match[1] !== this.token) return { answer: hec(403, "Invalid token", 4) };
    const text = request.body.toString("utf8");
    if (!text.trim()) return { answer: hec(400, "No data", 5) };
    const objects = splitConcatenatedJson(text);
    if (!objects)
      return { answer: hec(400, "Invalid data format", 6, { "invalid-event-number": 0 }) };
    const entries: AuditEntry[] = [];
    for (const [index, object] of objects.entries()) {
      const invalid = hec(400, "Invalid data format", 6, { "invalid-event-number": index });
      if (typeof object !== "object" || object === null || Array.isArray(object))
        return { answer: invalid };
      const event = object as Record<string, unknown>;
      if (!("event" in event))
        return {
          answer: hec(400, "Event field is required", 12, { "invalid-event-number": index }),
        };
      if (event.event === "" || event.event === null) {
        return {
          answer: hec(400, "Event field cannot be blank", 13, { "invalid-event-number": index }),
        };
      }
      if ("time" in event && (typeof event.time !== "number" || !Number.isFinite(event.time)))
        return { answer: invalid };
      for (const field of ["host", "source", "sourcetype", "index"]) {
        if (field in event && typeof event[field] !== "string") return { answer: invalid };
      }
      if ("fields" in event) {
        const fields = event.fields;
        if (typeof fields !== "object" || fields === null || Array.isArray(fields))
          return { answer: invalid };
        if (
          Object.values(fields).some(
            (v) => typeof v === "object" && v !== null && !Array.isArray(v),
          )
        ) {
          return { answer: invalid };
        }
      }
      if (
        typeof event.index === "string" &&
        this.options.allowedIndexes &&
        !this.options.allowedIndexes.includes(event.index)
      ) {
        return { answer: hec(400, "Incorrect index", 7, { "invalid-event-number": index }) };
      }
      const entry = event.event as AuditEntry;
      if (
        typeof entry !== "object" ||
        typeof entry.id !== "string" ||
        typeof entry.seq !== "number"
      ) {
        // Not Splunk's rule but ours: a stream's event is an audit entry with its id and seq.
        return {
          answer: {
            status: 422,
            body: JSON.stringify({ text: "event is not an audit entry", code: -1 }),
          },
        };
      }
      entries.push(entry);
    }
    this.events.push(...(objects as Record<string, unknown>[]));
    return { answer: hec(200, "Success", 0), accepted: entries };
  }
}
