import { Readable } from "node:stream";
import { buffer } from "node:stream/consumers";
import { describe, expect, it } from "vitest";
import { EntryLines, type EntryLinesOptions } from "./entry-lines.ts";
import { serializerFor } from "./serializers.ts";

const entries = [
  { id: "evt_1", description: "plain" },
  { id: "evt_2", description: 'a "quote", a \\ and a line\nbreak, 中文 😀' },
  { id: "evt_3", data: { nested: [1, 2, { x: null }] } },
];
const ndjson = Buffer.from(entries.map((entry) => `${JSON.stringify(entry)}\n`).join(""));
/** What COPY writes for a JSON array: every entry followed by a comma. */
const jsonLines = Buffer.from(entries.map((entry) => `${JSON.stringify(entry)},\n`).join(""));
const input = { json: jsonLines, ndjson };

async function run(chunks: Buffer[], options: EntryLinesOptions) {
  const lines = new EntryLines(options);
  const output = await buffer(Readable.from(chunks, { objectMode: true }).pipe(lines));
  return { text: output.toString("utf8"), rowsWritten: lines.rowsWritten };
}

/** The input cut at `at` positions, including cuts inside multi-byte characters. */
function split(input: Buffer, at: number[]): Buffer[] {
  const points = [0, ...at, input.length];
  return points.slice(1).map((end, i) => input.subarray(points[i], end));
}

/** What the JavaScript serializers write for the same entries, the format this must keep. */
function serialized(format: "json" | "ndjson") {
  const serializer = serializerFor(format);
  return (
    serializer.start +
    entries.map((entry, index) => serializer.row(entry as never, index)).join("") +
    serializer.end
  );
}

describe("EntryLines", () => {
  it("writes the same bytes as the serializers, however the input is cut", async () => {
    for (const format of ["json", "ndjson"] as const) {
      for (let cut = 1; cut < input[format].length; cut++) {
        const twoChunks = await run(split(input[format], [cut]), { format });
        expect(twoChunks.text, `${format} cut at ${cut}`).toBe(serialized(format));
        expect(twoChunks.rowsWritten).toBe(3);
      }
    }
    const byteByByte = split(
      jsonLines,
      Array.from({ length: jsonLines.length - 1 }, (_, i) => i + 1),
    );
    expect((await run(byteByByte, { format: "json" })).text).toBe(serialized("json"));
    expect(JSON.parse((await run([jsonLines], { format: "json" })).text)).toEqual(entries);
    const threeCuts = await run(split(jsonLines, [1, 2, jsonLines.length - 1]), { format: "json" });
    expect(threeCuts.text).toBe(serialized("json"));
  });

  it("writes an empty array, or nothing, when there are no entries", async () => {
    expect(await run([], { format: "json" })).toEqual({
      text: serializerFor("json").start + serializerFor("json").end,
      rowsWritten: 0,
    });
    expect(await run([], { format: "ndjson" })).toEqual({ text: "", rowsWritten: 0 });
  });

  it("reports progress as entries pass, and waits for the report", async () => {
    const many = Buffer.from(Array.from({ length: 25 }, (_, i) => `{"i":${i}}\n`).join(""));
    const reports: number[] = [];
    const { rowsWritten } = await run(split(many, [10, 50, 100, 150]), {
      format: "ndjson",
      progressEvery: 10,
      onProgress: async (count) => {
        await new Promise((resolve) => setTimeout(resolve, 5));
        reports.push(count);
      },
    });
    expect(rowsWritten).toBe(25);
    expect(reports.length).toBeGreaterThanOrEqual(2);
    expect(reports).toEqual([...reports].sort((a, b) => a - b));
    expect(reports.every((count) => count >= 10 && count <= 25)).toBe(true);
  });

  it("passes a JSON array's chunks on whole: one write to gzip per chunk, not two", async () => {
    // Each chunk pushed is a gzip write, i.e. a round trip to libuv's pool: the two bytes that
    // may be the final `,\n` must not go on their own after every chunk.
    const lines = new EntryLines({ format: "json" });
    const pushed: Buffer[] = [];
    lines.on("data", (chunk: Buffer) => pushed.push(chunk));
    const ended = new Promise((resolve) => lines.on("end", resolve));
    const chunks = entries.map((entry) => Buffer.from(`${JSON.stringify(entry)},\n`));
    for (const chunk of chunks) lines.write(chunk);
    lines.end();
    await ended;
    // `[\n`, the chunks (the last without its comma), `\n]\n`.
    expect(pushed.map((chunk) => chunk.toString("utf8"))).toEqual([
      "[\n",
      ...chunks.slice(0, -1).map((chunk) => chunk.toString("utf8")),
      `${JSON.stringify(entries.at(-1))}`,
      "\n]\n",
    ]);
  });

  it("refuses JSON lines whose last entry has no comma, rather than write a broken array", async () => {
    await expect(run([ndjson], { format: "json" })).rejects.toThrow(/comma/);
  });

  it("fails with the error a progress report or the stop check gives", async () => {
    await expect(
      run([jsonLines], {
        format: "json",
        progressEvery: 1,
        onProgress: async () => {
          throw new Error("superseded");
        },
      }),
    ).rejects.toThrow("superseded");
    let calls = 0;
    await expect(
      run(split(ndjson, [5, 20]), {
        format: "ndjson",
        shouldStop: () => (++calls > 1 ? new Error("stopping") : null),
      }),
    ).rejects.toThrow("stopping");
  });
});
