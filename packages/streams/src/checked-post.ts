import { request as httpRequest, type IncomingHttpHeaders } from "node:http";
import { request as httpsRequest } from "node:https";
import { checkedLookup, resolveWebhookTarget, systemHostLookup } from "@auditlog/events/webhooks";
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
 * One POST under the webhook address rule: the URL checked, its host resolved once with
 * `deps.lookup` and every address checked, the connection made to those addresses only (the name
 * kept for Host and TLS), on a connection of its own (a pooled one could have been opened under
 * another answer). Redirects are never followed: a 3xx is answered as it is.
 */
export async function checkedPost(input: {
  url: string;
  headers: Record<string, string | number>;
  /** Pieces are sent one after the other (one write to the socket), as one body. */
  body: Buffer | string | readonly Buffer[];
  deps: SenderDeps;
  signal: AbortSignal;
}): Promise<CheckedPostResult> {
  const target = await resolveWebhookTarget(
    input.url,
    { allowLocal: input.deps.allowLocal },
    input.deps.lookup ?? systemHostLookup,
  );
  if (target.kind === "refused") return { kind: "refused", reason: target.message };
  if (target.kind === "unresolved") return { kind: "unresolved", reason: target.message };
  const { url, host, addresses } = target;
  const request = url.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise<CheckedResponse>((resolve, reject) => {
    const req = request(
      {
        host,
        port: url.port || undefined,
        path: `${url.pathname}${url.search}`,
        method: "POST",
        headers: {
          host: url.host,
          "content-length": bodyLength(input.body),
          "user-agent": "auditlog-streams/1",
          ...input.headers,
        },
        lookup: checkedLookup(addresses) as never,
        agent: false,
        signal: input.signal,
      },
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
    req.on("error", reject);
    if (typeof input.body === "string" || Buffer.isBuffer(input.body)) {
      req.end(input.body);
    } else {
      for (const piece of input.body) req.write(piece);
      req.end();
    }
  });
}

function bodyLength(body: Buffer | string | readonly Buffer[]): number {
  if (typeof body === "string" || Buffer.isBuffer(body)) return Buffer.byteLength(body);
  let length = 0;
  for (const piece of body) length += piece.length;
  return length;
}
