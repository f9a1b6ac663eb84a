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
 * newlines are counted and, for a JSON array, each chunk is held back until the next one shows
 * that it does not end with the last entry's comma.
 */
export class EntryLines extends Transform {
  rowsWritten = 0;
  private readonly format: "json" | "ndjson";
  private readonly onProgress: EntryLinesOptions["onProgress"];
  private readonly progressEvery: number;
  private readonly shouldStop: EntryLinesOptions["shouldStop"];
  private nextProgress: number;
  private started = false;
  /**
   * JSON only: the last chunk so far (at least two bytes once there is one), held back whole
   * because it may end with the final `,\n`. Holding back only its last two bytes pushed them
   * on their own: a gzip write, i.e. a round trip to libuv's pool, for two bytes per chunk,
   * which made the JSON array ~18% slower than NDJSON.
   */
  private held: Buffer | undefined;

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
      this.pushHoldingBack(chunk);
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
      const held = this.held;
      if (held !== undefined) {
        // The last entry's `,\n`: a valid array ends without the comma.
        if (
          held.length < 2 ||
          held[held.length - 2] !== 0x2c ||
          held[held.length - 1] !== newline
        ) {
          callback(new Error("the last entry line does not end with a comma and a newline"));
          return;
        }
        this.held = undefined;
        this.push(held.subarray(0, held.length - 2));
        this.push(Buffer.from("\n]\n"));
      } else {
        this.push(Buffer.from("]\n"));
      }
    }
    callback();
  }

  private pushHoldingBack(chunk: Buffer) {
    if (chunk.length === 0) return;
    if (!this.started) {
      this.started = true;
      this.push(Buffer.from("[\n"));
    }
    if (this.held === undefined) {
      this.held = chunk;
    } else if (chunk.length < 2 || this.held.length < 2) {
      // Rare (the COPY's chunks are whole lines): keeps the final `,\n` in one held chunk.
      this.held = Buffer.concat([this.held, chunk]);
    } else {
      this.push(this.held);
      this.held = chunk;
    }
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
