import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driversOf } from "./database.ts";
import { createTestDatabase, createTestPool, prepareTestDatabase } from "./testing.ts";

describe("a client checked out of the pool when its connection is lost", () => {
  const admin = createTestPool();
  let db: ReturnType<typeof createTestDatabase>;

  beforeAll(async () => {
    await prepareTestDatabase();
    db = createTestDatabase();
  });
  afterAll(async () => {
    await db.close();
    await admin.end();
  });

  // pg gives a checked-out client no "error" listener: a connection lost between two of its
  // statements (PostgreSQL restarted, as `-m immediate` does to the worker's COPY connections)
  // was emitted as an unhandled "error" event and killed the process.
  it("fails its next statement instead of crashing the process, and the pool goes on", async () => {
    const uncaught: Error[] = [];
    const onUncaught = (error: Error) => uncaught.push(error);
    process.on("uncaughtException", onUncaught);
    const { pool } = driversOf(db);
    const client = await pool.connect();
    const { rows } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
    await admin.query("SELECT pg_terminate_backend($1)", [rows[0]?.pid]);
    await expect(
      new Promise((resolve) => setTimeout(resolve, 200)).then(() => client.query("SELECT 1")),
    ).rejects.toThrow();
    client.release(true);
    process.off("uncaughtException", onUncaught);
    expect(uncaught.map((error) => error.message)).toEqual([]);
    expect((await pool.query<{ one: number }>("SELECT 1 AS one")).rows).toEqual([{ one: 1 }]);
  });
});
