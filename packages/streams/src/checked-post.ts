import { Agent as HttpAgent, request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { Agent as HttpsAgent, request as httpsRequest } from "node:https";
import {
  checkedPostOptions,
  resolveWebhookTarget,
  systemHostLookup,
} from "@auditlog/events/webhooks";
import type { SenderDeps } from "./destination-sender.ts";

export interface CheckedResponse {
  kind: "response";
  status: number;
  headers: IncomingHttpHeaders;
  /** The start of the body (the rest is dropped): enough for an error code and message. */
  body: string;
}

export type CheckedPostResult =
  | CheckedResponse
  /** The URL or an address its host resolves to is not one streams may reach: nothing sent. */
  | { kind: "refused"; reason: string }
  /** The host did not resolve (now). */
  | { kind: "unresolved"; reason: string };

const maxAnswerBytes = 16 * 1024;

/**
 * Connections a sender keeps open between its requests (one stream's turn: batch after batch to
 * one receiver), instead of a connection per batch. Each connection is still made to addresses
 * checked by the request that opened it, and every request checks the URL and its addresses
 * again before it is sent (a name that now resolves to a forbidden address is refused, pooled
 * connection or not). `close` ends them all.
 */
export interface SenderConnections {
  readonly http: HttpAgent;
  readonly https: HttpsAgent;
  close(): void;
}

export function createSenderConnections(): SenderConnections {
  // One request at a time per sender (its batches and parts go one after the other).
  const options = { keepAlive: true, maxSockets: 1, scheduling: "lifo" as const };
  const http = new HttpAgent(options);
  const https = new HttpsAgent(options);
  return {
    http,
    https,
    close() {
      http.destroy();
      https.destroy();
    },
  };
}

/** What a request on a kept connection may meet when the receiver closed it meanwhile. */
const staleConnectionCodes = new Set(["ECONNRESET", "EPIPE"]);

/**
 * One POST under the webhook address rule: the URL checked, its host resolved once with
 * `deps.lookup` and every address checked, the connection made to those addresses only (the name
 * kept for Host and TLS), on a connection of its own, or on one of `connections` (opened by an
 * earlier request of the same sender, to addresses checked then). A kept connection the receiver
 * closed meanwhile fails the request at once: it is sent again once on a new connection.
 * Redirects are never followed: a 3xx is answered as it is.
 */
export async function checkedPost(input: {
  url: string;
  headers: Record<string, string | number>;
  /** Pieces are sent one after the other (one write to the socket), as one body. */
  body: Buffer | string | readonly Buffer[];
  deps: SenderDeps;
  signal: AbortSignal;
  connections?: SenderConnections | undefined;
}): Promise<CheckedPostResult> {
  const target = await resolveWebhookTarget(
    input.url,
    { allowLocal: input.deps.allowLocal },
    input.deps.lookup ?? systemHostLookup,
  );
  if (target.kind === "refused") return { kind: "refused", reason: target.message };
  if (target.kind === "unresolved") return { kind: "unresolved", reason: target.message };
  const secure = target.url.protocol === "https:";
  const request = secure ? httpsRequest : httpRequest;
  const send = (agent: HttpAgent | false) =>
    new Promise<CheckedResponse>((resolve, reject) => {
      const req = request(
        checkedPostOptions(target, {
          headers: {
            "content-length": bodyLength(input.body),
            "user-agent": "auditlog-streams/1",
            ...input.headers,
          },
          agent,
          signal: input.signal,
        }),
        (res) => {
          const chunks: Buffer[] = [];
          let size = 0;
          res.on("data", (chunk: Buffer) => {
            if (size >= maxAnswerBytes) return;
            chunks.push(chunk);
            size += chunk.length;
          });
          res.on("end", () =>
            resolve({
              kind: "response",
              status: res.statusCode ?? 0,
              headers: res.headers,
              body: Buffer.concat(chunks).subarray(0, maxAnswerBytes).toString("utf8"),
            }),
          );
          res.on("error", reject);
        },
      );
      req.on("error", (error: NodeJS.ErrnoException) => {
        if (
          agent !== false &&
          req.reusedSocket &&
          staleConnectionCodes.has(error.code ?? "") &&
          !input.signal.aborted
        ) {
          resolve(send(false));
          return;
        }
        reject(error);
      });
      if (typeof input.body === "string" || Buffer.isBuffer(input.body)) {
        req.end(input.body);
      } else {
        for (const piece of input.body) req.write(piece);
        req.end();
      }
    });
  return send(
    input.connections ? (secure ? input.connections.https : input.connections.http) : false,
  );
}

function bodyLength(body: Buffer | string | readonly Buffer[]): number {
  if (typeof body === "string" || Buffer.isBuffer(body)) return Buffer.byteLength(body);
  let length = 0;
  for (const piece of body) length += piece.length;
  return length;
}
