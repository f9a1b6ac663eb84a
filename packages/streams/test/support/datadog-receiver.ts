import type { IncomingHttpHeaders } from "node:http";
import type { AuditEntry } from "@auditlog/events";
import { type Answer, ReceiverServer } from "./receiver-server.ts";

const megabyte = 1024 * 1024;

/**
 * Datadog's logs intake API v2 as documented ("Send logs"): `POST /api/v2/logs`, `DD-API-KEY`
 * (missing or unknown: 403 `{"errors":["Forbidden"]}`), `Content-Type: application/json`, a JSON
 * array of log objects (or one object), at most 5 MB uncompressed (else 413) and 1,000 logs
 * (else 400); a log over 1 MB is accepted and truncated (counted in `truncated`). Accepted: 202
 * `{}`. Each log's `message` must be an audit entry as JSON with `id` and `seq` (our rule).
 */
export class DatadogIntakeReceiver extends ReceiverServer {
  /** The logs accepted, whole. */
  readonly logs: Record<string, unknown>[] = [];
  /** Logs over 1 MB (Datadog truncates them). */
  truncated = 0;

  constructor(readonly apiKey: string) {
    super();
  }

  protected failureAnswer(status: number): Answer {
    return {
      status,
      body: JSON.stringify({
        errors: [status === 429 ? "Too Many Requests" : "Service Unavailable"],
      }),
    };
  }

  protected override tooLarge(): Answer {
    return { status: 413, body: JSON.stringify({ errors: ["Payload too large"] }) };
  }

  protected handle(request: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
  }) {
    const bad = (message: string): { answer: Answer } => ({
      answer: { status: 400, body: JSON.stringify({ errors: [message] }) },
    });
    if (request.method !== "POST" || request.path.split("?")[0] !== "/api/v2/logs") {
      return { answer: { status: 404, body: JSON.stringify({ errors: ["Not found"] }) } };
    }
    if (request.headers["dd-api-key"] !== this.apiKey) {
      return { answer: { status: 403, body: JSON.stringify({ errors: ["Forbidden"] }) } };
    }
    if (!String(request.headers["content-type"] ?? "").startsWith("application/json")) {
      return bad("Content-Type must be application/json");
    }
    if (request.body.length > 5 * megabyte) return { answer: this.tooLarge() };
    let parsed: unknown;
    try {
      parsed = JSON.parse(request.body.toString("utf8"));
    } catch {
      return bad("Malformed JSON");
    }
    const logs = Array.isArray(parsed) ? parsed : [parsed];
    if (logs.length > 1000) return bad("Too many logs in one request (at most 1,000)");
    const entries: AuditEntry[] = [];
    for (const log of logs) {
      if (typeof log !== "object" || log === null || Array.isArray(log))
        return bad("A log must be an object");
      const message = (log as Record<string, unknown>).message;
      if (typeof message !== "string") return bad("message must be a string");
      if (Buffer.byteLength(JSON.stringify(log)) > megabyte) this.truncated += 1;
      let entry: AuditEntry;
      try {
        entry = JSON.parse(message) as AuditEntry;
      } catch {
        return {
          answer: {
            status: 422,
            body: JSON.stringify({ errors: ["message is not an audit entry"] }),
          },
        };
      }
      if (typeof entry.id !== "string" || typeof entry.seq !== "number") {
        return {
          answer: {
            status: 422,
            body: JSON.stringify({ errors: ["message is not an audit entry"] }),
          },
        };
      }
      entries.push(entry);
    }
    this.logs.push(...(logs as Record<string, unknown>[]));
    return { answer: { status: 202, body: "{}" }, accepted: entries };
  }
}
