import type { LookupAddress, LookupOptions } from "node:dns";
import { Agent as HttpAgent } from "node:http";
import { Agent as HttpsAgent } from "node:https";
import { promisify } from "node:util";
import { gzip } from "node:zlib";
import { parseIp } from "@auditlog/events/ip";
import {
  type HostLookup,
  refuseWebhookAddress,
  resolveWebhookTarget,
  systemHostLookup,
} from "@auditlog/events/webhooks";
import { PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { NodeHttpHandler } from "@smithy/node-http-handler";
import type {
  DeliveryOutcome,
  DestinationSender,
  SenderDeps,
  StreamBatch,
} from "./destination-sender.ts";
import type { S3Destination } from "./destination-types.ts";
import {
  failureOutcome,
  parseRetryAfter,
  redactSecret,
  shorten,
  statusOutcome,
  withDeadline,
} from "./send-context.ts";

const gzipAsync = promisify(gzip);

/** Digits of the zero-padded seqs in a key, so keys of one day sort in seq order as text. */
const seqDigits = 12;

function pad(value: number, digits: number): string {
  return String(value).padStart(digits, "0");
}

/**
 * The object key of a batch: `<prefix>/<org id>/<yyyy>/<mm>/<dd>/<firstSeq>-<lastSeq>.ndjson.gz`,
 * the date being the `receivedAt` of the batch's first entry in UTC (it grows with `seq`, unlike
 * `occurredAt`, so the keys of a log sort in its order), the seqs zero-padded to 12 digits. The
 * org's id, not its slug: a slug can be renamed, which would split one log over two folders.
 * A test message goes to `<prefix>/<org id>/test/<epoch ms>.ndjson.gz`. The same batch always
 * gets the same key: rewriting it on a retry is idempotent.
 */
export function s3ObjectKey(
  destination: { prefix: string },
  batch: StreamBatch,
  now: Date,
): string {
  const base = destination.prefix ? `${destination.prefix}/${batch.org.id}` : batch.org.id;
  if (batch.test) return `${base}/test/${now.getTime()}.ndjson.gz`;
  const first = batch.entries[0];
  const last = batch.entries[batch.entries.length - 1];
  const day = new Date(first?.receivedAt ?? now.toISOString());
  const date = `${day.getUTCFullYear()}/${pad(day.getUTCMonth() + 1, 2)}/${pad(day.getUTCDate(), 2)}`;
  return `${base}/${date}/${pad(first?.seq ?? 0, seqDigits)}-${pad(last?.seq ?? 0, seqDigits)}.ndjson.gz`;
}

/**
 * The object's bytes: one entry as JSON per line, gzipped (the object is a `.ndjson.gz` file).
 * Compressed on libuv's thread pool, not the event loop, which other streams' batches share.
 */
export async function s3ObjectBody(batch: StreamBatch): Promise<Buffer> {
  const lines = batch.entries.map((entry) => `${entry.json}\n`).join("");
  return gzipAsync(lines);
}

class RefusedAddress extends Error {
  readonly code = "EADDRREFUSED";
}

type LookupCallback = (
  error: NodeJS.ErrnoException | null,
  address: string | LookupAddress[],
  family?: number,
) => void;

/**
 * The agents' `lookup`: resolves the name the SDK connects to (the endpoint's host, or
 * `<bucket>.<host>` in virtual-hosted style) once per connection and connects only if every
 * address passes the webhook rule, to one of exactly those addresses.
 */
function checkingLookup(deps: { allowLocal: boolean; lookup: HostLookup }) {
  return (hostname: string, options: LookupOptions, callback: LookupCallback) => {
    const bare = hostname.replace(/^\[|\]$/g, "");
    const resolved = parseIp(bare)
      ? Promise.resolve([{ address: bare, family: bare.includes(":") ? 6 : 4 }])
      : deps.lookup(bare);
    resolved.then(
      (addresses) => {
        for (const { address } of addresses) {
          const refused = refuseWebhookAddress(address, { allowLocal: deps.allowLocal });
          if (refused) {
            callback(new RefusedAddress(`the S3 endpoint ${refused}`), "");
            return;
          }
        }
        const wanted = addresses.filter(
          (a) =>
            !options.family || options.family === a.family || options.family === `IPv${a.family}`,
        );
        if (options.all) {
          callback(
            null,
            wanted.map((a) => ({ address: a.address, family: a.family })),
          );
          return;
        }
        const first = wanted[0];
        if (!first) {
          callback(
            Object.assign(new Error(`${hostname} has no usable address`), { code: "ENOTFOUND" }),
            "",
          );
          return;
        }
        callback(null, first.address, first.family);
      },
      (error: Error) => callback(Object.assign(error, { code: "ENOTFOUND" }), ""),
    );
  };
}

/** S3 error codes a retry may outlast; every other 4xx is a setting to fix (key, bucket, region). */
const retriedS3Codes = new Set([
  "SlowDown",
  "RequestTimeout",
  "RequestTimeTooSkewed",
  "ServiceUnavailable",
  "InternalError",
]);

function s3ErrorOutcome(error: unknown, secret: string | null, now: Date): DeliveryOutcome {
  if (error instanceof RefusedAddress) return { kind: "refused", reason: error.message };
  const cause = (error as { cause?: unknown })?.cause;
  if (cause instanceof RefusedAddress) return { kind: "refused", reason: cause.message };
  if (error instanceof S3ServiceException && error.$metadata.httpStatusCode) {
    const status = error.$metadata.httpStatusCode;
    const headers = (error.$response?.headers ?? {}) as Record<string, string | undefined>;
    const detail = `${error.name}${error.message && error.message !== error.name ? `: ${error.message}` : ""}`;
    const outcome = statusOutcome({
      status,
      retryAfterMs: parseRetryAfter(headers["retry-after"], now),
      detail: shorten(detail, 200),
      secret,
    });
    if (outcome.kind === "rejected" && retriedS3Codes.has(error.name)) {
      return { kind: "retry", reason: outcome.reason, status };
    }
    return outcome;
  }
  return failureOutcome(error, secret);
}

/**
 * `s3`: one gzip NDJSON object per batch (`s3ObjectKey`), PutObject with the access key and the
 * secret access key, on any S3-compatible endpoint. The SDK's own retries are off (the delivery
 * loop retries, and backs off) and so are its region redirects (never follow a redirect).
 */
export function createS3Sender(
  destination: S3Destination,
  secret: string | null,
  deps: SenderDeps,
): DestinationSender {
  const lookup = deps.lookup ?? systemHostLookup;
  const endpoint = destination.endpoint ?? `https://s3.${destination.region}.amazonaws.com`;
  const agentOptions = {
    keepAlive: true,
    maxSockets: 8,
    lookup: checkingLookup({ allowLocal: deps.allowLocal, lookup }),
  };
  const client = new S3Client({
    region: destination.region,
    ...(destination.endpoint ? { endpoint: destination.endpoint } : {}),
    forcePathStyle: destination.forcePathStyle,
    credentials: { accessKeyId: destination.accessKeyId, secretAccessKey: secret ?? "" },
    maxAttempts: 1,
    followRegionRedirects: false,
    requestHandler: new NodeHttpHandler({
      httpAgent: new HttpAgent(agentOptions as never),
      httpsAgent: new HttpsAgent(agentOptions as never),
      connectionTimeout: deps.timeoutMs,
      requestTimeout: deps.timeoutMs,
    }),
  });
  return {
    // The client's agents keep their connections between batches; the turn's end closes them.
    close: () => client.destroy(),
    async send(batch, options) {
      if (!secret)
        return { kind: "rejected", reason: "no secret access key configured", status: null };
      const now = deps.now?.() ?? new Date();
      try {
        return await withDeadline(deps, options?.signal, async (signal) => {
          // Refuse before any request: the endpoint as written and the addresses of its name.
          const target = await resolveWebhookTarget(
            endpoint,
            { allowLocal: deps.allowLocal },
            lookup,
          );
          if (target.kind === "refused")
            return { kind: "refused", reason: `the S3 endpoint ${target.message}` };
          if (target.kind === "unresolved")
            return { kind: "retry", reason: target.message, status: null };
          const answer = await client.send(
            new PutObjectCommand({
              Bucket: destination.bucket,
              Key: s3ObjectKey(destination, batch, now),
              Body: await s3ObjectBody(batch),
              // The object is a .gz file, not a compressed transfer of NDJSON: no Content-Encoding,
              // so no HTTP client unpacks it on download behind the reader's back.
              ContentType: "application/gzip",
              Metadata: {
                "auditlog-stream": batch.streamId,
                "auditlog-first-seq": String(batch.entries[0]?.seq ?? 0),
                "auditlog-last-seq": String(batch.entries[batch.entries.length - 1]?.seq ?? 0),
              },
            }),
            { abortSignal: signal },
          );
          return {
            kind: "delivered",
            status: answer.$metadata.httpStatusCode ?? 200,
          } as DeliveryOutcome;
        });
      } catch (error) {
        const outcome = s3ErrorOutcome(error, secret, now);
        if (outcome.kind === "retry" || outcome.kind === "rejected") {
          return { ...outcome, reason: redactSecret(outcome.reason, secret) };
        }
        return outcome;
      }
    },
  };
}
