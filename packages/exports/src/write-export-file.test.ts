import { createHash } from "node:crypto";
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { text } from "node:stream/consumers";
import { gunzipSync } from "node:zlib";
import {
  createOrganization,
  insertAuditEntries,
  openEntryJsonStream,
  summariseMatchingEntries,
} from "@auditlog/db";
import {
  auditEntryRow,
  createTestDatabase,
  prepareTestDatabase,
  uniqueSlug,
} from "@auditlog/db/testing";
import { parseQuery } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createExportStorage } from "./storage/create-export-storage.ts";
import { writeExportFile } from "./write-export-file.ts";

// The export file as a whole (issue 21 part 4): whichever process renders the lines, the file
// holds exactly the lines PostgreSQL's rendering gives, framed as NDJSON or as a JSON array
// (brackets, and a comma after every entry but the last), gzipped, with its SHA-256 and count.
// Thousands of entries, so the lines come in many COPY chunks and the array's last comma is
// found at the end of a chunk, never in the middle of one.

const db = createTestDatabase();
const dir = mkdtempSync(path.join(tmpdir(), "write-export-file-"));
const storage = createExportStorage({ kind: "local", dir });
const query = (() => {
  const parsed = parseQuery("");
  if (!parsed.ok) throw new Error("empty query");
  return parsed.query;
})();
const ENTRIES = 3_000;
let orgId: string;

beforeAll(async () => {
  await prepareTestDatabase();
  const org = await createOrganization(db, {
    slug: uniqueSlug("write-export"),
    name: "Write export",
    plan: "enterprise",
  });
  orgId = org.id;
  const start = Date.UTC(2026, 2, 1);
  const rows = Array.from({ length: ENTRIES }, (_, i) =>
    auditEntryRow(orgId, {
      occurredAt: new Date(start + i * 1000 + (i % 1000)),
      description: i % 7 === 0 ? `a "quote", a \\ and a\nbreak, 中文 😀 ${i}` : `entry ${i}`,
      targetType: i % 3 === 0 ? "repo" : null,
      targetId: i % 3 === 0 ? `repo_${i}` : null,
      city: i % 5 === 0 ? "Zürich" : null,
      ip: i % 2 === 0 ? "192.0.2.1" : null,
      data: i % 4 === 0 ? { n: i, nested: { list: [1, "two", null] } } : {},
    }),
  );
  for (let i = 0; i < rows.length; i += 1_000) {
    await insertAuditEntries(db, rows.slice(i, i + 1_000));
  }
});

afterAll(async () => {
  await db.close();
  rmSync(dir, { recursive: true, force: true });
});

/** PostgreSQL's rendering of every entry's line, newest first, without a separator. */
async function referenceLines(): Promise<string[]> {
  const entries = await openEntryJsonStream(db, {
    orgId,
    query,
    options: { includeHidden: true },
    lineDigest: true,
    renderer: "postgres",
  });
  const body = await text(entries.stream);
  await entries.release(false);
  return body.slice(0, -1).split("\n");
}

async function written(format: "json" | "ndjson", renderer: "postgres" | "node") {
  const key = `${format}-${renderer}.gz`;
  const file = await writeExportFile(
    { orgId, query, options: { includeHidden: true }, format },
    { db, storage, key, onProgress: async () => {}, shouldStop: () => null, renderer },
  );
  const stored = readFileSync(path.join(dir, key));
  expect(file.sha256).toBe(createHash("sha256").update(stored).digest("hex"));
  expect(file.fileSize).toBe(stored.length);
  return { rowsWritten: file.rowsWritten, content: gunzipSync(stored).toString("utf8") };
}

describe("writeExportFile", () => {
  it("writes PostgreSQL's lines, framed, whichever process renders them", async () => {
    const lines = await referenceLines();
    expect(lines).toHaveLength(ENTRIES);
    const expected = {
      ndjson: `${lines.join("\n")}\n`,
      json: `[\n${lines.join(",\n")}\n]\n`,
    };
    for (const format of ["json", "ndjson"] as const) {
      for (const renderer of ["postgres", "node"] as const) {
        const file = await written(format, renderer);
        expect(file.rowsWritten, `${format} by ${renderer}`).toBe(ENTRIES);
        expect(file.content === expected[format], `${format} by ${renderer}`).toBe(true);
      }
    }
    expect(JSON.parse(expected.json)).toHaveLength(ENTRIES);
  });

  it("states the entries' count and lowest and highest seq, as counting the selection does", async () => {
    // Times out of seq order, so the file's first and last lines are not its seq extremes; a
    // filter that leaves the lowest seqs out.
    const org = await createOrganization(db, {
      slug: uniqueSlug("export-seqs"),
      name: "Export seqs",
      plan: "enterprise",
    });
    const start = Date.UTC(2026, 3, 1);
    await insertAuditEntries(
      db,
      Array.from({ length: 40 }, (_, i) =>
        auditEntryRow(org.id, {
          type: i < 7 || i % 9 === 0 ? "repo.delete" : "repo.create",
          occurredAt: new Date(start + ((i * 17) % 40) * 60_000),
        }),
      ),
    );
    const cases = [
      { q: "type:repo.create", maxSeq: 40 },
      { q: "type:repo.create", maxSeq: 30 },
      { q: "type:repo.delete", maxSeq: 5 },
      { q: "type:org.change_role", maxSeq: 40 },
    ];
    for (const { q, maxSeq } of cases) {
      const parsed = parseQuery(q);
      if (!parsed.ok) throw new Error(`query ${q}`);
      const options = { includeHidden: true, maxSeq };
      const expected = await summariseMatchingEntries(db, {
        orgId: org.id,
        query: parsed.query,
        options,
      });
      for (const format of ["json", "ndjson", "csv"] as const) {
        const file = await writeExportFile(
          { orgId: org.id, query: parsed.query, options, format },
          {
            db,
            storage,
            key: `seqs-${format}.gz`,
            onProgress: async () => {},
            shouldStop: () => null,
          },
        );
        expect(
          { count: file.rowsWritten, firstSeq: file.seqs?.first, lastSeq: file.seqs?.last },
          `${q} ≤ ${maxSeq} as ${format}`,
        ).toEqual(expected);
      }
    }
    // PostgreSQL's rendering is not seen line by line: no figures, the build counts instead.
    const file = await writeExportFile(
      { orgId: org.id, query, options: { includeHidden: true }, format: "ndjson" },
      {
        db,
        storage,
        key: "seqs-postgres.gz",
        onProgress: async () => {},
        shouldStop: () => null,
        renderer: "postgres",
      },
    );
    expect(file.rowsWritten).toBe(40);
    expect(file.seqs).toBeUndefined();
  });
});
