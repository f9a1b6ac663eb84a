import { Readable } from "node:stream";

// A `COPY … TO STDOUT` read as a byte stream of its data: the lines of a text COPY, or the
// header, rows and trailer of a binary one, for `verify`'s entry reads (issue 14). pg-copy-streams does the same job, but cuts every row into a Buffer of its
// own and then concatenates them again: at 1,000,000 rows that was about a microsecond per row
// on the hashing threads (copies, Buffer objects, garbage collection). Here the rows of each
// socket read are moved together in place (one native copy per row) and pushed as one Buffer.
//
// The protocol part is pg-copy-streams' (`copy-to.js`), which this follows: pg hands the
// connection to a "submittable" query; it takes the socket's data listener off while the COPY
// runs, reads the socket itself, and gives what follows CopyDone (CommandComplete,
// ReadyForQuery) or an ErrorResponse back to pg's own parser, which then calls
// `handleCommandComplete`, `handleReadyForQuery` or `handleError` as for any query.

const COPY_DATA = 0x64; // 'd'
const COPY_DONE = 0x63; // 'c'
const ERROR_RESPONSE = 0x45; // 'E'

interface PgConnection {
  stream: {
    read(): Buffer | null;
    listeners(event: "data"): ((chunk: Buffer) => void)[];
    removeListener(event: string, listener: (...args: never[]) => void): unknown;
    addListener(event: string, listener: (chunk: Buffer) => void): unknown;
    on(event: string, listener: () => void): unknown;
    pause(): unknown;
    resume(): unknown;
  };
  query(text: string): void;
}

export class CopyOutLines extends Readable {
  #connection: PgConnection | undefined;
  #pgDataHandler: ((chunk: Buffer) => void) | undefined;
  /** An incomplete message left at the end of the last socket read. */
  #pending: Buffer | undefined;
  #wanted = false;
  #forwarding = false;
  #attached = false;
  readonly #onReadable = () => this.#forward();

  /** `highWaterMark`: the bytes of rows read ahead of the reader (verify's hashing threads take 1 MiB). */
  constructor(
    readonly text: string,
    highWaterMark = 1024 * 1024,
  ) {
    super({ highWaterMark });
  }

  /** Called by pg when the query's turn comes on the connection. */
  submit(connection: PgConnection): void {
    this.#connection = connection;
    const stream = connection.stream;
    const handlers = stream.listeners("data");
    if (handlers.length !== 1) throw new Error("expected pg's one data listener on the socket");
    this.#pgDataHandler = handlers[0];
    stream.removeListener("data", this.#pgDataHandler as (chunk: Buffer) => void);
    stream.pause();
    this.#attached = true;
    stream.on("readable", this.#onReadable);
    connection.query(this.text);
  }

  override _read(): void {
    this.#wanted = true;
    this.#forward();
  }

  #forward(): void {
    if (this.#forwarding || !this.#wanted || !this.#attached || !this.#connection) return;
    this.#forwarding = true;
    const stream = this.#connection.stream;
    for (let chunk = stream.read(); chunk !== null; chunk = stream.read()) {
      this.#wanted = this.#parse(chunk);
      if (!this.#wanted || !this.#attached) break;
    }
    this.#forwarding = false;
  }

  /** Moves the rows of `input` to its start and pushes them; false: stop reading for now. */
  #parse(input: Buffer): boolean {
    const bytes = this.#pending ? Buffer.concat([this.#pending, input]) : input;
    this.#pending = undefined;
    let at = 0;
    let rows = 0;
    let end: "done" | "error" | undefined;
    while (bytes.length - at >= 5) {
      const code = bytes[at] as number;
      if (code === ERROR_RESPONSE) {
        end = "error";
        break;
      }
      const length = bytes.readUInt32BE(at + 1);
      if (bytes.length - at < 1 + length) break;
      if (code === COPY_DATA) {
        // w ≤ at always: the copy never overwrites a message not yet read.
        bytes.copyWithin(rows, at + 5, at + 1 + length);
        rows += length - 4;
      }
      // CopyOutResponse, NoticeResponse, ParameterStatus, NotificationResponse: skipped.
      at += 1 + length;
      if (code === COPY_DONE) {
        end = "done";
        break;
      }
    }
    const wanted = rows > 0 ? this.push(bytes.subarray(0, rows)) : true;
    if (end) {
      this.#detach(bytes.subarray(at));
      if (end === "done") this.push(null);
      return false;
    }
    if (at < bytes.length) this.#pending = bytes.subarray(at);
    return wanted;
  }

  /** Gives the socket, and what is left of this read, back to pg's parser. */
  #detach(rest: Buffer): void {
    const connection = this.#connection as PgConnection;
    const handler = this.#pgDataHandler as (chunk: Buffer) => void;
    this.#attached = false;
    connection.stream.removeListener("readable", this.#onReadable);
    connection.stream.addListener("data", handler);
    handler(rest);
    // pg's handler may itself pause the socket: resume once it has returned.
    process.nextTick(() => connection.stream.resume());
  }

  /** pg: the query failed (an ErrorResponse, or the connection ended). */
  handleError(error: Error): void {
    this.destroy(error);
  }

  handleCommandComplete(): void {}

  handleReadyForQuery(): void {}
}
