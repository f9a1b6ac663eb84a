import { buffer } from "node:stream/consumers";
import type pg from "pg";
import { to as copyTo } from "pg-copy-streams";
import { afterAll, describe, expect, it } from "vitest";
import { CopyOutLines } from "./copy-out-lines.ts";
import { createTestPool } from "./testing.ts";

// CopyOutLines against pg-copy-streams (the implementation it replaces on verify's hot path):
// the same bytes for rows that span socket reads and rows that share one, errors surfacing as
// the stream's error, and the connection usable for the next statement either way.

const pool = createTestPool();
afterAll(() => pool.end());

const lines = (client: pg.PoolClient, sql: string) =>
  buffer(
    client.query(new CopyOutLines(sql) as unknown as pg.Submittable) as unknown as CopyOutLines,
  );
const reference = (client: pg.PoolClient, sql: string) => buffer(client.query(copyTo(sql)));

describe("CopyOutLines", () => {
  it("gives pg-copy-streams' bytes: small rows, escapes, NULLs, rows of a megabyte", async () => {
    const client = await pool.connect();
    try {
      const sql = `COPY (SELECT n, CASE WHEN n % 7 = 0 THEN NULL ELSE 'row ' || n END,
          E'tab\\there "quoted" \\\\ back' || n, repeat(md5(n::text), CASE WHEN n % 250 = 0 THEN 30000 ELSE n % 40 END)
        FROM generate_series(1, 3000) n ORDER BY n) TO STDOUT`;
      const ours = await lines(client, sql);
      const theirs = await reference(client, sql);
      expect(ours.length).toBeGreaterThan(3_000_000);
      expect(ours.equals(theirs)).toBe(true);
      // The connection is back in pg's hands.
      expect((await client.query("SELECT 42 AS n")).rows).toEqual([{ n: 42 }]);
    } finally {
      client.release();
    }
  });

  it("an empty result is an empty stream", async () => {
    const client = await pool.connect();
    try {
      const ours = await lines(client, "COPY (SELECT 1 WHERE false) TO STDOUT");
      expect(ours.length).toBe(0);
      expect((await client.query("SELECT 1 AS n")).rows).toEqual([{ n: 1 }]);
    } finally {
      client.release();
    }
  });

  it("a statement that fails midway fails the stream, and the connection goes on", async () => {
    const client = await pool.connect();
    try {
      const failing = lines(
        client,
        "COPY (SELECT 1 / (20000 - n), repeat('x', 200) FROM generate_series(1, 30000) n) TO STDOUT",
      );
      await expect(failing).rejects.toThrow(/division by zero/);
      await expect(lines(client, "COPY (SELEC 1) TO STDOUT")).rejects.toThrow(/syntax error/);
      expect((await client.query("SELECT 7 AS n")).rows).toEqual([{ n: 7 }]);
    } finally {
      client.release();
    }
  });
});
