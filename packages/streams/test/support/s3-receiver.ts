/// <reference path="./s3rver.d.ts" />
import { mkdtemp, rm } from "node:fs/promises";
import {
  createServer,
  request as httpRequest,
  type IncomingMessage,
  type Server,
  type ServerResponse,
} from "node:http";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { AuditEntry } from "@auditlog/events";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";
import { checkPresignedSigV4, checkSigV4 } from "./sigv4-check.ts";

/** s3rver's one account: the only access key id it knows (another: 403 InvalidAccessKeyId). */
export const s3TestCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface StoredObject {
  key: string;
  contentType: string | undefined;
  /** The object's lines, parsed (after gunzip). */
  entries: AuditEntry[];
}

function readAll(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => resolve(Buffer.concat(chunks)));
    req.on("error", reject);
  });
}

/** Requests held back by `S3TestServer.hold` until `release()`. */
export class RequestHold {
  /** How many matching requests have arrived (held, then released). */
  count = 0;
  private released = false;
  private readonly waiting: (() => void)[] = [];

  constructor(
    readonly matches: (request: { method: string; path: string }) => boolean,
    private readonly onRelease: () => void,
  ) {}

  wait(): Promise<void> {
    this.count += 1;
    if (this.released) return Promise.resolve();
    return new Promise((resolve) => this.waiting.push(resolve));
  }

  /** Lets every held request through (and any later one: the hold is over). */
  release(): void {
    this.released = true;
    this.onRelease();
    for (const resume of this.waiting.splice(0)) resume();
  }
}

/**
 * An S3-compatible server for tests: s3rver (in-process, files in a temporary folder, one
 * bucket) behind a front on 127.0.0.1 that checks each request's Signature Version 4 as S3 does
 * (s3rver checks only the access key id), in the Authorization header or in a presigned URL's
 * query: a wrong secret access key or a tampered URL is answered 403 SignatureDoesNotMatch, an
 * expired presigned URL 403 AccessDenied, a body not matching its x-amz-content-sha256 400. The front's port is
 * kept across `stop()`/`start()`; objects are read back with the AWS SDK (`objects()`).
 */
export class S3TestServer {
  private backend: S3rver | null = null;
  private backendPort = 0;
  private front: Server | null = null;
  private portNumber = 0;
  private directory = "";
  /** Requests the front refused (signature or payload hash). */
  readonly refused: { code: string; path: string }[] = [];
  private holding: RequestHold | null = null;

  /** `host`: the address the front listens on (a multi-host test's network, or loopback). */
  constructor(
    readonly bucket = "audit-archive",
    readonly host = "127.0.0.1",
  ) {}

  get port(): number {
    if (!this.portNumber) throw new Error("S3 server not started");
    return this.portNumber;
  }

  get endpoint(): string {
    return `http://${this.host}:${this.port}`;
  }

  async start(): Promise<this> {
    if (!this.backend) {
      if (!this.directory) this.directory = await mkdtemp(join(tmpdir(), "auditlog-s3-"));
      const backend = new S3rver({
        address: "127.0.0.1",
        port: 0,
        silent: true,
        directory: this.directory,
        configureBuckets: [{ name: this.bucket, configs: [] }],
      });
      this.backendPort = (await backend.run()).port;
      this.backend = backend;
    }
    if (this.front) return this;
    const front = createServer((req, res) => {
      this.forward(req, res).catch((error: Error) => {
        if (!res.headersSent) res.writeHead(502).end(error.message);
        else res.destroy();
      });
    });
    await new Promise<void>((resolve, reject) => {
      front.once("error", reject);
      front.listen(this.portNumber, this.host, () => resolve());
    });
    this.portNumber = (front.address() as AddressInfo).port;
    this.front = front;
    return this;
  }

  /** Stops listening (connections refused) until `start()`; the objects are kept. */
  async stop(): Promise<void> {
    this.holding?.release();
    const front = this.front;
    this.front = null;
    if (!front) return;
    front.closeAllConnections();
    await new Promise<void>((resolve) => front.close(() => resolve()));
  }

  /** Stops both servers and removes the stored objects. */
  async close(): Promise<void> {
    await this.stop();
    const backend = this.backend;
    this.backend = null;
    if (backend) await backend.close();
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
  }

  /**
   * Holds back every signed request matching `matches` (it reaches the store only on
   * `release()`), so a test can act at a known point of a client's upload: a part in flight.
   */
  hold(matches: (request: { method: string; path: string }) => boolean): RequestHold {
    if (this.holding) throw new Error("a hold is already in place");
    const hold = new RequestHold(matches, () => {
      if (this.holding === hold) this.holding = null;
    });
    this.holding = hold;
    return hold;
  }

  private async forward(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const body = await readAll(req);
    const secretOf = (id: string) =>
      id === s3TestCredentials.accessKeyId ? s3TestCredentials.secretAccessKey : undefined;
    const signed = { method: req.method ?? "GET", path: req.url ?? "/", headers: req.headers };
    const check =
      typeof req.headers.authorization === "string"
        ? await checkSigV4({ ...signed, body }, secretOf)
        : await checkPresignedSigV4(signed, secretOf);
    if (!check.ok) {
      this.refused.push({ code: check.code, path: req.url ?? "" });
      res.writeHead(check.status, { "content-type": "application/xml" });
      res.end(
        `<?xml version="1.0" encoding="UTF-8"?>\n<Error><Code>${check.code}</Code><Message>${check.message}</Message><RequestId>test</RequestId></Error>`,
      );
      return;
    }
    const hold = this.holding;
    if (hold?.matches({ method: req.method ?? "GET", path: req.url ?? "/" })) {
      await hold.wait();
      // Its client is gone (a killed process): a dead request does not reach the store.
      if (req.socket.destroyed) return;
    }
    const headers = { ...req.headers };
    delete headers.connection;
    const upstream = httpRequest({
      host: "127.0.0.1",
      port: this.backendPort,
      method: req.method,
      path: req.url,
      headers,
    });
    await new Promise<void>((resolve, reject) => {
      upstream.on("response", (answer) => {
        res.writeHead(answer.statusCode ?? 502, answer.headers);
        answer.pipe(res);
        answer.on("end", resolve);
        answer.on("error", reject);
      });
      upstream.on("error", reject);
      upstream.end(body);
    });
  }

  client(): S3Client {
    return new S3Client({
      region: "us-east-1",
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: s3TestCredentials,
    });
  }

  /** The keys of the bucket's objects (under `prefix`), as a listing shows them, sorted. */
  async keys(prefix = ""): Promise<string[]> {
    const client = this.client();
    try {
      const keys: string[] = [];
      let token: string | undefined;
      do {
        const page = await client.send(
          new ListObjectsV2Command({
            Bucket: this.bucket,
            Prefix: prefix,
            ContinuationToken: token,
          }),
        );
        keys.push(...(page.Contents ?? []).map((object) => object.Key ?? ""));
        token = page.IsTruncated ? page.NextContinuationToken : undefined;
      } while (token);
      return keys.sort();
    } finally {
      client.destroy();
    }
  }

  /** Every object of the bucket (under `prefix`), in key order, gunzipped and parsed. */
  async objects(prefix = ""): Promise<StoredObject[]> {
    const keys = await this.keys(prefix);
    const client = this.client();
    try {
      const objects: StoredObject[] = [];
      for (const key of keys) {
        const got = await client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
        const bytes = Buffer.from((await got.Body?.transformToByteArray()) ?? []);
        const text = gunzipSync(bytes).toString("utf8");
        if (!text.endsWith("\n")) throw new Error(`${key}: NDJSON must end with a newline`);
        const entries = text
          .slice(0, -1)
          .split("\n")
          .map((line) => JSON.parse(line) as AuditEntry);
        objects.push({ key, contentType: got.ContentType, entries });
      }
      return objects;
    } finally {
      client.destroy();
    }
  }
}
