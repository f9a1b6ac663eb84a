import { Transform, type TransformCallback } from "node:stream";

const newline = 0x0a;
const arraySeparator = Buffer.from(",\n");

export interface EntryLinesOptions {
  /** `json` wraps the lines in one array; `ndjson` passes them through. */
  format: "json" | "ndjson";
  /** Called after every `progressEvery` entries with the count so far; the stream waits for it. */
  onProgress?: (rowsWritten: number) => Promise<void>;
  progressEvery?: number;
  /** Checked at each chunk: the error it returns stops the stream. */
  shouldStop?: () => Error | null;
}

/**
 * Takes NDJSON bytes (one entry and `\n` per line, as PostgreSQL's COPY writes them) and gives
 * the export file's bytes, counting entries as they pass. Works on Buffers only: a line may
 * be split across chunks, and nothing is decoded or parsed.
 *
 * The JSON array is written `[`, newline, entries separated by `,` and a newline, newline, `]`:
 * each `\n` becomes `,\n` except the last, which is held back until the next chunk shows that
 * another entry follows.
 */
export class EntryLines extends Transform {
  rowsWritten = 0;
  private readonly format: "json" | "ndjson";
  private readonly onProgress: EntryLinesOptions["onProgress"];
  private readonly progressEvery: number;
  private readonly shouldStop: EntryLinesOptions["shouldStop"];
  private nextProgress: number;
  private started = false;
  /** JSON only: the last entry seen ended its chunk, so its separator is not known yet. */
  private pendingSeparator = false;

  constructor(options: EntryLinesOptions) {
    super();
    this.format = options.format;
    this.onProgress = options.onProgress;
    this.progressEvery = options.progressEvery ?? 10_000;
    this.shouldStop = options.shouldStop;
    this.nextProgress = this.progressEvery;
  }

  override _transform(chunk: Buffer, _encoding: BufferEncoding, callback: TransformCallback) {
    const stop = this.shouldStop?.();
    if (stop) {
      callback(stop);
      return;
    }
    const lines = countNewlines(chunk);
    this.rowsWritten += lines;
    if (this.format === "ndjson") {
      this.push(chunk);
    } else {
      this.pushJsonArrayPart(chunk);
    }
    if (this.onProgress && this.rowsWritten >= this.nextProgress) {
      this.nextProgress = this.rowsWritten + this.progressEvery;
      this.onProgress(this.rowsWritten).then(() => callback(), callback);
      return;
    }
    callback();
  }

  override _flush(callback: TransformCallback) {
    if (this.format === "json") {
      if (!this.started) this.push(Buffer.from("[\n"));
      this.push(Buffer.from(this.pendingSeparator ? "\n]\n" : "]\n"));
    }
    callback();
  }

  private pushJsonArrayPart(chunk: Buffer) {
    if (chunk.length === 0) return;
    const parts: Buffer[] = [];
    if (!this.started) {
      this.started = true;
      parts.push(Buffer.from("[\n"));
    }
    if (this.pendingSeparator) {
      parts.push(arraySeparator);
      this.pendingSeparator = false;
    }
    let start = 0;
    for (;;) {
      const end = chunk.indexOf(newline, start);
      if (end === -1) {
        parts.push(chunk.subarray(start));
        break;
      }
      parts.push(chunk.subarray(start, end));
      if (end === chunk.length - 1) {
        this.pendingSeparator = true;
        break;
      }
      parts.push(arraySeparator);
      start = end + 1;
    }
    this.push(Buffer.concat(parts));
  }
}

function countNewlines(chunk: Buffer): number {
  let count = 0;
  let position = chunk.indexOf(newline);
  while (position !== -1) {
    count++;
    position = chunk.indexOf(newline, position + 1);
  }
  return count;
}
