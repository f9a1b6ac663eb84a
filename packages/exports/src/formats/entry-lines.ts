import { Transform, type TransformCallback } from "node:stream";

const newline = 0x0a;

export interface EntryLinesOptions {
  /**
   * `ndjson` passes `{…}\n` lines through. `json` takes `{…},\n` lines (the separator written by
   * PostgreSQL) and makes them one array: `[` and a newline first, and the last line's comma
   * dropped before the closing `]`.
   */
  format: "json" | "ndjson";
  /** Called after every `progressEvery` entries with the count so far; the stream waits for it. */
  onProgress?: (rowsWritten: number) => Promise<void>;
  progressEvery?: number;
  /** Checked at each chunk: the error it returns stops the stream. */
  shouldStop?: () => Error | null;
}

/**
 * Turns the entry lines PostgreSQL's COPY writes into the export file's bytes, counting entries
 * as they pass. Chunks are passed on as they are (a line may be split across chunks): only
 * newlines are counted and, for a JSON array, the last two bytes of each chunk are held back
 * until the next one shows whether they end the last entry.
 */
export class EntryLines extends Transform {
  rowsWritten = 0;
  private readonly format: "json" | "ndjson";
  private readonly onProgress: EntryLinesOptions["onProgress"];
  private readonly progressEvery: number;
  private readonly shouldStop: EntryLinesOptions["shouldStop"];
  private nextProgress: number;
  private started = false;
  /** JSON only: the stream's last bytes so far, held back because they may be the final `,\n`. */
  private tail: Buffer = Buffer.alloc(0);

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
    this.rowsWritten += countNewlines(chunk);
    if (this.format === "ndjson") {
      this.push(chunk);
    } else {
      this.pushHoldingBackTail(chunk);
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
      if (this.tail.length > 0) {
        // The last entry's `,\n`: a valid array ends without the comma.
        if (this.tail.toString("latin1") !== ",\n") {
          callback(new Error("the last entry line does not end with a comma and a newline"));
          return;
        }
        this.push(Buffer.from("\n]\n"));
      } else {
        this.push(Buffer.from("]\n"));
      }
    }
    callback();
  }

  private pushHoldingBackTail(chunk: Buffer) {
    if (chunk.length === 0) return;
    if (!this.started) {
      this.started = true;
      this.push(Buffer.from("[\n"));
    }
    if (chunk.length < 2) {
      const data = Buffer.concat([this.tail, chunk]);
      if (data.length > 2) this.push(data.subarray(0, data.length - 2));
      this.tail = data.subarray(Math.max(0, data.length - 2));
      return;
    }
    if (this.tail.length > 0) this.push(this.tail);
    this.push(chunk.subarray(0, chunk.length - 2));
    // A copy, so the two held bytes do not keep the whole chunk alive.
    this.tail = Buffer.from(chunk.subarray(chunk.length - 2));
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
