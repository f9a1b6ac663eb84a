import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createDatabase, type Database, driversOf } from "./database.ts";
import { prepareTestDatabase, testDatabaseUrl } from "./testing.ts";

describe("every connection of ours starts with JIT compilation off", () => {
  let db: Database;
  beforeAll(async () => {
    await prepareTestDatabase();
    db = createDatabase({ url: testDatabaseUrl, poolSize: 1, ormPoolSize: 1 });
  });
  afterAll(() => db.close());

  it("the pg pool's sessions", async () => {
    const { rows } = await driversOf(db).pool.query<{ jit: string }>("SHOW jit");
    expect(rows[0]?.jit).toBe("off");
  });

  it("Prisma's sessions", async () => {
    const rows = await driversOf(db).prisma.$queryRawUnsafe<{ jit: string }[]>("SHOW jit");
    expect(rows[0]?.jit).toBe("off");
  });

  it("a statement estimated far above jit_above_cost is planned without JIT", async () => {
    // A cross join of two 2,000-row series: estimated in the millions, executed in no time.
    const { rows } = await driversOf(db).pool.query<{ "QUERY PLAN": unknown[] }>(
      `EXPLAIN (ANALYZE, FORMAT JSON)
       SELECT count(*) FROM generate_series(1, 2000) a CROSS JOIN generate_series(1, 2000) b
       WHERE a + b < 0`,
    );
    const plan = rows[0]?.["QUERY PLAN"][0] as { Plan: { "Total Cost": number }; JIT?: unknown };
    expect(plan.Plan["Total Cost"]).toBeGreaterThan(100_000);
    expect(plan.JIT).toBeUndefined();
  });
});
