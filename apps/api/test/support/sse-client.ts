import { serve } from "@hono/node-server";
import type { createApp } from "../../src/app.ts";

export interface SseEvent {
  event: string;
  data: string;
  id?: string;
}

/** Serves an app on a free loopback port for tests that need real HTTP (streams). */
export async function listen(app: ReturnType<typeof createApp>) {
  let server: ReturnType<typeof serve> | undefined;
  const port = await new Promise<number>((resolve) => {
    server = serve({ fetch: app.fetch, hostname: "127.0.0.1", port: 0 }, (info) =>
      resolve(info.port),
    );
  });
  return {
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        // Streams stay open until their clients go; do not wait for them.
        (server as unknown as { closeAllConnections?: () => void }).closeAllConnections?.();
        server?.close(() => resolve());
      }),
  };
}

/**
 * A minimal EventSource over fetch (Node has none): connects with a bearer token, parses the
 * stream as it arrives, and keeps every event and comment for assertions.
 */
export class SseClient {
  readonly events: SseEvent[] = [];
  readonly comments: string[] = [];
  status = 0;
  contentType = "";
  private readonly controller = new AbortController();
  private waiters: Array<{ test: (e: SseEvent) => boolean; resolve: (e: SseEvent) => void }> = [];
  private ended = false;
  private endWaiters: Array<() => void> = [];

  static async open(url: string, token: string): Promise<SseClient> {
    const client = new SseClient();
    const response = await fetch(url, {
      headers: { authorization: `Bearer ${token}`, accept: "text/event-stream" },
      signal: client.controller.signal,
    });
    client.status = response.status;
    client.contentType = response.headers.get("content-type") ?? "";
    if (response.body) void client.read(response.body);
    else client.markEnded();
    return client;
  }

  /** The first event (already received or still to come) that passes `test`. */
  waitFor(test: (e: SseEvent) => boolean, timeoutMs = 20_000): Promise<SseEvent> {
    const found = this.events.find(test);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.waiters = this.waiters.filter((w) => w.resolve !== done);
        reject(new Error(`no matching SSE event within ${timeoutMs} ms; got ${this.describe()}`));
      }, timeoutMs);
      const done = (event: SseEvent) => {
        clearTimeout(timer);
        resolve(event);
      };
      this.waiters.push({ test, resolve: done });
    });
  }

  waitForEvent(name: string, timeoutMs?: number): Promise<SseEvent> {
    return this.waitFor((e) => e.event === name, timeoutMs);
  }

  /** Resolves when the server ended the stream. */
  waitForEnd(timeoutMs = 20_000): Promise<void> {
    if (this.ended) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error("stream did not end")), timeoutMs);
      this.endWaiters.push(() => {
        clearTimeout(timer);
        resolve();
      });
    });
  }

  close(): void {
    this.controller.abort();
  }

  /** True once the stream has ended (closed by the server, or by close()). */
  get hasEnded(): boolean {
    return this.ended;
  }

  describe(): string {
    return JSON.stringify(this.events.map((e) => e.event));
  }

  private async read(body: ReadableStream<Uint8Array>) {
    const decoder = new TextDecoder();
    let buffer = "";
    const reader = body.getReader();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        buffer += decoder.decode(value, { stream: true }).replace(/\r\n?/g, "\n");
        let boundary = buffer.indexOf("\n\n");
        while (boundary >= 0) {
          this.parseBlock(buffer.slice(0, boundary));
          buffer = buffer.slice(boundary + 2);
          boundary = buffer.indexOf("\n\n");
        }
      }
    } catch {
      // Aborted by close(), or the server went away.
    } finally {
      this.markEnded();
    }
  }

  private parseBlock(block: string) {
    let event = "message";
    const data: string[] = [];
    let id: string | undefined;
    let sawField = false;
    for (const line of block.split("\n")) {
      if (line.startsWith(":")) {
        this.comments.push(line.slice(1).trim());
        continue;
      }
      const colon = line.indexOf(":");
      const field = colon < 0 ? line : line.slice(0, colon);
      const value = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
      sawField = true;
      if (field === "event") event = value;
      else if (field === "data") data.push(value);
      else if (field === "id") id = value;
    }
    if (!sawField || data.length === 0) return;
    const parsed: SseEvent = { event, data: data.join("\n"), ...(id !== undefined ? { id } : {}) };
    this.events.push(parsed);
    for (const waiter of [...this.waiters]) {
      if (waiter.test(parsed)) {
        this.waiters = this.waiters.filter((w) => w !== waiter);
        waiter.resolve(parsed);
      }
    }
  }

  private markEnded() {
    this.ended = true;
    for (const resolve of this.endWaiters.splice(0)) resolve();
  }
}
