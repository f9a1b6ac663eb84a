/// <reference path="./s3rver.d.ts" />
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { gunzipSync } from "node:zlib";
import type { AuditEntry } from "@auditlog/events";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import S3rver from "s3rver";

/** s3rver's one account: it knows this access key id and refuses any other (403 InvalidAccessKeyId). */
export const s3TestCredentials = { accessKeyId: "S3RVER", secretAccessKey: "S3RVER" } as const;

export interface StoredObject {
  key: string;
  contentType: string | undefined;
  /** The object's lines, parsed (after gunzip). */
  entries: AuditEntry[];
}

/**
 * An S3-compatible server (s3rver, in-process, files in a temporary folder) with one bucket, on
 * 127.0.0.1 and a port kept across `stop()`/`start()`; objects are read back with the AWS SDK
 * (ListObjectsV2 + GetObject + gunzip + NDJSON). s3rver checks the access key id, not the v4
 * signature: a wrong secret access key is not caught by it.
 */
export class S3TestServer {
  private server: S3rver | null = null;
  private portNumber = 0;
  private directory = "";

  constructor(readonly bucket = "audit-archive") {}

  get port(): number {
    if (!this.portNumber) throw new Error("S3 server not started");
    return this.portNumber;
  }

  get endpoint(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async start(): Promise<this> {
    if (this.server) return this;
    if (!this.directory) this.directory = await mkdtemp(join(tmpdir(), "auditlog-s3-"));
    const server = new S3rver({
      address: "127.0.0.1",
      port: this.portNumber,
      silent: true,
      directory: this.directory,
      configureBuckets: [{ name: this.bucket, configs: [] }],
    });
    const address = await server.run();
    this.portNumber = address.port;
    this.server = server;
    return this;
  }

  /** Stops listening (connections refused) until `start()`; the objects are kept. */
  async stop(): Promise<void> {
    const server = this.server;
    this.server = null;
    if (server) await server.close();
  }

  /** Stops and removes the stored objects. */
  async close(): Promise<void> {
    await this.stop();
    if (this.directory) await rm(this.directory, { recursive: true, force: true });
  }

  client(): S3Client {
    return new S3Client({
      region: "us-east-1",
      endpoint: this.endpoint,
      forcePathStyle: true,
      credentials: s3TestCredentials,
    });
  }

  /** Every object of the bucket (under `prefix`), in key order, gunzipped and parsed. */
  async objects(prefix = ""): Promise<StoredObject[]> {
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
      keys.sort();
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
