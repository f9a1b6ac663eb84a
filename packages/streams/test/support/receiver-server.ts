import {
  createServer,
  type IncomingHttpHeaders,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import type { AuditEntry } from "@auditlog/events";

/**
 * The machinery every test receiver shares: a real HTTP server on 127.0.0.1 (an ephemeral port,
 * kept across `stop()`/`start()`), the record of what it accepted, and scripted failures.
 */

export interface ReceivedRequest {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: Buffer;
  /** What the receiver answered. */
  status: number;
}

export interface AcceptedBatch {
  entries: AuditEntry[];
  headers: IncomingHttpHeaders;
}

/** A scripted failure: answer `status` (with `retryAfter`) `times` times, or until `recover()`. */
export interface FailureScript {
  status: number;
  /** The Retry-After header, as sent (seconds or an HTTP date). */
  retryAfter?: string;
  /** How many requests fail; absent: every request until `recover()`. */
  times?: number;
}

export interface Answer {
  status: number;
  body?: string;
  headers?: Record<string, string>;
}

/** Reads a request's body whole, up to `limit` bytes (a larger body is answered `tooLarge`). */
function readBody(req: IncomingMessage, limit: number): Promise<Buffer | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = false;
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
    });
    req.on("end", () => resolve(over ? null : Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

export abstract class ReceiverServer {
  /** Every request, in arrival order, with what it was answered. */
  readonly requests: ReceivedRequest[] = [];
  /** Every batch accepted, in arrival order (a batch sent twice is here twice). */
  readonly batches: AcceptedBatch[] = [];
  private server: Server | null = null;
  private portNumber = 0;
  private script: FailureScript | null = null;

  /** Largest body read (a larger one is answered by `tooLarge`). */
  protected maxBodyBytes = 64 * 1024 * 1024;

  get port(): number {
    if (!this.portNumber) throw new Error("receiver not started");
    return this.portNumber;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  /** Every entry accepted, in arrival order (duplicates included). */
  get entries(): AuditEntry[] {
    return this.batches.flatMap((batch) => batch.entries);
  }

  /** The seqs accepted, in arrival order. */
  seqs(): number[] {
    return this.entries.map((entry) => entry.seq);
  }

  /** The entries accepted, by id (the last copy of a duplicate). */
  entriesById(): Map<string, AuditEntry> {
    return new Map(this.entries.map((entry) => [entry.id, entry]));
  }

  /** Fail the next requests as scripted, before any check. */
  fail(script: FailureScript): void {
    this.script = { ...script };
  }

  recover(): void {
    this.script = null;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    const server = createServer((req, res) => {
      this.serve(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(500).end(String(error.message));
      });
    });
    await new Promise<void>((resolve, reject) => {
      server.once("error", reject);
      server.listen(this.portNumber, "127.0.0.1", () => resolve());
    });
    this.portNumber = (server.address() as AddressInfo).port;
    this.server = server;
    return this;
  }

  /** Stops listening (connections refused) until `start()`, on the same port. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = null;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** The receiver's reading of one request: the answer, and the batch it accepted (if any). */
  protected abstract handle(request: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
  }): { answer: Answer; accepted?: AuditEntry[] };

  /** The answer to a scripted failure, in the receiver's own format. */
  protected abstract failureAnswer(status: number): Answer;

  protected tooLarge(): Answer {
    return { status: 413, body: "payload too large" };
  }

  private async serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readBody(req, this.maxBodyBytes);
    const base = {
      method: req.method ?? "",
      path: req.url ?? "",
      headers: req.headers,
      body: body ?? Buffer.alloc(0),
    };
    let answer: Answer;
    const script = this.script;
    if (script) {
      answer = this.failureAnswer(script.status);
      if (script.retryAfter !== undefined) {
        answer = { ...answer, headers: { ...answer.headers, "retry-after": script.retryAfter } };
      }
      if (script.times !== undefined) {
        script.times -= 1;
        if (script.times <= 0) this.script = null;
      }
    } else if (body === null) {
      answer = this.tooLarge();
    } else {
      const handled = this.handle(base);
      answer = handled.answer;
      if (handled.accepted) this.batches.push({ entries: handled.accepted, headers: req.headers });
    }
    this.requests.push({ ...base, status: answer.status });
    res.writeHead(answer.status, {
      "content-type": "application/json; charset=utf-8",
      ...answer.headers,
    });
    res.end(answer.body ?? "");
  }
}
