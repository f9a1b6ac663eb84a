import { Readable, Writable } from "node:stream";
import {
  AbortMultipartUploadCommand,
  CompleteMultipartUploadCommand,
  CreateMultipartUploadCommand,
  DeleteObjectCommand,
  GetObjectCommand,
  HeadObjectCommand,
  S3Client,
  S3ServiceException,
  UploadPartCommand,
} from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import {
  assertValidExportKey,
  type ExportStorage,
  type ExportUpload,
  type S3ExportStorageConfig,
} from "./export-storage.ts";

const mib = 1024 * 1024;
export const defaultS3PartSize = 8 * mib;
/** S3 takes at most 10,000 parts: past each 1,000 the part size doubles (parts may differ). */
const partsPerSize = 1000;

/** Not there: 404 of any kind (HeadObject has no body, so no error code, only the status). */
function isNotFound(error: unknown): boolean {
  return (
    error instanceof S3ServiceException &&
    (error.$metadata.httpStatusCode === 404 || error.name === "NoSuchKey")
  );
}

function createClient(config: S3ExportStorageConfig, endpoint: string | undefined): S3Client {
  return new S3Client({
    region: config.region,
    ...(endpoint ? { endpoint } : {}),
    forcePathStyle: config.forcePathStyle ?? false,
    ...(config.credentials ? { credentials: config.credentials } : {}),
    // Many S3-compatible stores (older MinIO, Ceph, s3rver) refuse the SDK's newer default
    // CRC checksums on multipart uploads; each request's SigV4 payload hash already lets the
    // store check every part's bytes.
    requestChecksumCalculation: "WHEN_REQUIRED",
    responseChecksumValidation: "WHEN_REQUIRED",
    requestHandler: { connectionTimeout: 10_000, requestTimeout: 120_000 },
  });
}

/**
 * The bytes of one export file as a multipart upload: parts of `partSize` (doubling every 1,000
 * parts), one uploading while the next fills, so memory stays about two parts whatever the
 * file's size and a slow store slows the writer (backpressure). Nothing becomes visible here:
 * the object appears only with CompleteMultipartUpload (`ExportUpload.commit`).
 */
class MultipartUploadStream extends Writable {
  private buffered: Buffer[] = [];
  private bufferedBytes = 0;
  private inflight: Promise<void> = Promise.resolve();
  private nextPartNumber = 1;
  readonly parts: { PartNumber: number; ETag: string }[] = [];
  size = 0;
  readonly aborter = new AbortController();

  constructor(
    private readonly client: S3Client,
    private readonly target: { Bucket: string; Key: string; UploadId: string },
    private readonly partSize: number,
  ) {
    super({ highWaterMark: 64 * 1024 });
  }

  private currentPartSize(): number {
    return this.partSize * 2 ** Math.floor((this.nextPartNumber - 1) / partsPerSize);
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error) => void) {
    this.buffered.push(chunk);
    this.bufferedBytes += chunk.length;
    this.size += chunk.length;
    if (this.bufferedBytes < this.currentPartSize()) {
      callback();
      return;
    }
    this.flushPart().then(() => callback(), callback);
  }

  override _final(callback: (error?: Error) => void) {
    // The last part may be short, and an empty file is one empty part.
    const last = this.bufferedBytes > 0 || this.nextPartNumber === 1 ? this.flushPart() : null;
    Promise.resolve(last)
      .then(() => this.inflight)
      .then(() => callback(), callback);
  }

  override _destroy(error: Error | null, callback: (error?: Error | null) => void) {
    this.aborter.abort();
    callback(error);
  }

  /** Waits for the part before (rethrowing its failure), then starts this one. */
  private async flushPart(): Promise<void> {
    const body = Buffer.concat(this.buffered, this.bufferedBytes);
    this.buffered = [];
    this.bufferedBytes = 0;
    await this.inflight;
    const partNumber = this.nextPartNumber++;
    const uploading = this.client
      .send(
        new UploadPartCommand({
          ...this.target,
          PartNumber: partNumber,
          Body: body,
          ContentLength: body.length,
        }),
        { abortSignal: this.aborter.signal },
      )
      .then((answer) => {
        if (!answer.ETag) throw new Error(`part ${partNumber} was stored without an ETag`);
        this.parts.push({ PartNumber: partNumber, ETag: answer.ETag });
      });
    // Awaited by the next part or by _final; marked handled meanwhile.
    uploading.catch(() => {});
    this.inflight = uploading;
  }
}

/**
 * A bucket of any S3-compatible store (EXPORT_STORAGE=s3). The multipart upload is the atomic
 * commit: a writer that dies at any point leaves at most an incomplete upload, which no GET,
 * HEAD or listing shows. Downloads are streamed from GetObject, or, with `presignSeconds`, a
 * presigned GET the client is redirected to.
 */
export class S3ExportStorage implements ExportStorage {
  readonly kind = "s3" as const;
  readonly location: string;
  private readonly client: S3Client;
  private readonly presignClient: S3Client;
  private readonly prefix: string;
  private readonly partSize: number;

  constructor(private readonly config: S3ExportStorageConfig) {
    this.prefix = (config.prefix ?? "").replace(/^\/+|\/+$/g, "");
    this.partSize = config.partSize ?? defaultS3PartSize;
    this.client = createClient(config, config.endpoint || undefined);
    this.presignClient = config.publicEndpoint
      ? createClient(config, config.publicEndpoint)
      : this.client;
    // For logs: never the credentials.
    this.location = `s3://${config.bucket}/${this.prefix}${config.endpoint ? ` at ${config.endpoint}` : ""}`;
  }

  /** The object key of a storage key: under the prefix, after the same checks as local. */
  objectKey(key: string): string {
    assertValidExportKey(key);
    return this.prefix ? `${this.prefix}/${key}` : key;
  }

  async createWriteStream(key: string): Promise<ExportUpload> {
    const Key = this.objectKey(key);
    const Bucket = this.config.bucket;
    const created = await this.client.send(
      new CreateMultipartUploadCommand({
        Bucket,
        Key,
        // A .gz file, not a compressed transfer of its content: no Content-Encoding, so no
        // HTTP client unpacks it behind the downloader's back.
        ContentType: "application/gzip",
      }),
    );
    const UploadId = created.UploadId;
    if (!UploadId) throw new Error("the store answered CreateMultipartUpload without an UploadId");
    const stream = new MultipartUploadStream(this.client, { Bucket, Key, UploadId }, this.partSize);
    let aborted = false;
    return {
      stream,
      commit: async () => {
        if (!stream.writableFinished) throw new Error("commit before the stream finished");
        const parts = [...stream.parts].sort((a, b) => a.PartNumber - b.PartNumber);
        await this.client.send(
          new CompleteMultipartUploadCommand({
            Bucket,
            Key,
            UploadId,
            MultipartUpload: { Parts: parts },
          }),
        );
        // What is visible now must be the whole file: the store's size against ours.
        const stored = await this.stat(key);
        if (stored?.size !== stream.size) {
          throw new Error(
            `the stored object has ${stored?.size ?? "no"} bytes, ${stream.size} were written`,
          );
        }
        return { size: stream.size };
      },
      abort: async () => {
        if (aborted) return;
        aborted = true;
        stream.destroy();
        // Best effort: an incomplete upload is invisible, and the bucket's lifecycle rule
        // reclaims any that could not be aborted (the store down, or one without the call).
        await this.client
          .send(new AbortMultipartUploadCommand({ Bucket, Key, UploadId }))
          .catch(() => {});
      },
    };
  }

  async openRead(key: string): Promise<Readable | null> {
    try {
      const answer = await this.client.send(
        new GetObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      if (!answer.Body) return null;
      return answer.Body instanceof Readable
        ? answer.Body
        : Readable.fromWeb(answer.Body.transformToWebStream() as never);
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async stat(key: string): Promise<{ size: number } | null> {
    try {
      const answer = await this.client.send(
        new HeadObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
      );
      return { size: answer.ContentLength ?? 0 };
    } catch (error) {
      if (isNotFound(error)) return null;
      throw error;
    }
  }

  async delete(key: string): Promise<void> {
    // S3 answers 204 whether or not the object existed.
    await this.client.send(
      new DeleteObjectCommand({ Bucket: this.config.bucket, Key: this.objectKey(key) }),
    );
  }

  async downloadUrl(
    key: string,
    options: { fileName: string; notAfter?: Date },
  ): Promise<string | null> {
    const seconds = this.config.presignSeconds ?? 0;
    if (seconds <= 0) return null;
    const untilLimit = options.notAfter
      ? Math.floor((options.notAfter.getTime() - Date.now()) / 1000)
      : seconds;
    const expiresIn = Math.max(1, Math.min(seconds, untilLimit));
    return getSignedUrl(
      this.presignClient,
      new GetObjectCommand({
        Bucket: this.config.bucket,
        Key: this.objectKey(key),
        // The store answers with these headers: the browser saves the file under our name.
        ResponseContentDisposition: `attachment; filename="${options.fileName}"`,
        ResponseContentType: "application/gzip",
        ResponseCacheControl: "no-store",
      }),
      { expiresIn },
    );
  }

  close(): void {
    this.client.destroy();
    if (this.presignClient !== this.client) this.presignClient.destroy();
  }
}
