import { Readable } from "node:stream";
import { constants, createBrotliCompress, createGzip } from "node:zlib";
import { createMiddleware } from "hono/factory";
import { COMPRESSIBLE_CONTENT_TYPE_REGEX } from "hono/utils/compress";
import type { AppEnv } from "../app-env.ts";

/**
 * Compresses the API's answers for clients that accept it: brotli (`br`) or gzip, whichever the
 * client prefers (brotli on a tie: smaller for the same CPU at the quality used here).
 *
 * - Only compressible types (JSON, text, …): never `text/event-stream` (a live stream must reach
 *   the client event by event) nor what is already compressed (export files, `application/gzip`),
 *   nor an answer that already has a Content-Encoding or says `Cache-Control: no-transform`.
 * - Small answers (under `threshold` bytes, most answers of the API) go out as they are: gzip's
 *   setup costs more than it saves there. The first bytes of the body are read to tell, so a
 *   streamed answer is held only until `threshold` bytes are ready.
 * - Mounted on the routes that may carry it (app.ts): not on answers that hold a secret a
 *   reflected value could be guessed against (BREACH: /v1/me's CSRF token, /v1/auth), and not on
 *   ingestion, whose small answers sit on the hot path.
 */
export function compressAnswers({
  threshold = 1024,
  skip = () => false,
}: {
  threshold?: number;
  /** Paths whose answers are never compressed. */
  skip?: (path: string) => boolean;
} = {}) {
  return createMiddleware<AppEnv>(async (c, next) => {
    await next();
    if (skip(c.req.path)) return;
    const encoding = preferredEncoding(c.req.header("accept-encoding"));
    const res = c.res;
    if (!encoding || !res.body || c.req.method === "HEAD") return;
    if (res.status === 204 || res.status === 206 || res.status === 304) return;
    if (res.headers.has("content-encoding")) return;
    if (/\bno-transform\b/i.test(res.headers.get("cache-control") ?? "")) return;
    const type = res.headers.get("content-type") ?? "";
    if (!COMPRESSIBLE_CONTENT_TYPE_REGEX.test(type)) return;
    const length = Number(res.headers.get("content-length") ?? Number.NaN);
    if (length < threshold) return;

    // Read the first bytes: a short body is answered as it is, with its length.
    const reader = res.body.getReader();
    const head: Uint8Array[] = [];
    let headBytes = 0;
    let done = false;
    while (headBytes < threshold) {
      const chunk = await reader.read();
      if (chunk.done) {
        done = true;
        break;
      }
      head.push(chunk.value);
      headBytes += chunk.value.byteLength;
    }
    const headers = new Headers(res.headers);
    headers.append("vary", "Accept-Encoding");
    if (done && headBytes < threshold) {
      headers.set("content-length", String(headBytes));
      c.res = new Response(Buffer.concat(head), { status: res.status, headers });
      return;
    }
    async function* body() {
      yield* head;
      for (;;) {
        const chunk = await reader.read();
        if (chunk.done) return;
        yield chunk.value;
      }
    }
    // A large stream (`compression: "fast"`, the Hub export): brotli 1 and gzip 1, about a
    // quarter and half of the CPU of 4 and 6 for a JSON export (2.2 and 3.7 µs an entry, 7 and 5
    // times smaller, against 12.8 and 8.5 µs, 12 and 6 times), so they keep up with PostgreSQL.
    const fast = c.get("compression") === "fast";
    const compressor =
      encoding === "br"
        ? // Quality 4 of 11: about gzip's speed, smaller output; 11 costs ten times the CPU.
          createBrotliCompress({ params: { [constants.BROTLI_PARAM_QUALITY]: fast ? 1 : 4 } })
        : createGzip({ level: fast ? 1 : 6 });
    const source = Readable.from(body());
    source.on("error", (error) => compressor.destroy(error));
    // A client that goes away cancels the body: the source stops reading too.
    compressor.on("close", () => {
      if (!source.destroyed) source.destroy();
      void reader.cancel().catch(() => {});
    });
    headers.delete("content-length");
    headers.set("content-encoding", encoding);
    c.res = new Response(Readable.toWeb(source.pipe(compressor)) as ReadableStream, {
      status: res.status,
      headers,
    });
  });
}

/** `br` or `gzip` from an Accept-Encoding header (q-values honoured), or null for neither. */
export function preferredEncoding(header: string | undefined): "br" | "gzip" | null {
  if (!header) return null;
  const weights = new Map<string, number>();
  for (const part of header.split(",")) {
    const [token = "", ...params] = part.trim().toLowerCase().split(";");
    const q = params.map((p) => p.trim()).find((p) => p.startsWith("q="));
    const weight = q ? Number(q.slice(2)) : 1;
    weights.set(token === "x-gzip" ? "gzip" : token, Number.isFinite(weight) ? weight : 0);
  }
  const wildcard = weights.get("*") ?? 0;
  const br = weights.get("br") ?? wildcard;
  const gzip = weights.get("gzip") ?? wildcard;
  if (br <= 0 && gzip <= 0) return null;
  return br >= gzip ? "br" : "gzip";
}
