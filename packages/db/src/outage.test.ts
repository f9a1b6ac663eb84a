import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createOrganization, findOrganizationBySlug } from "./accounts.ts";
import { createDatabase, type Database, driversOf } from "./database.ts";
import { migrateDatabase } from "./migrate.ts";
import { isServiceOutage, isStatementTimeout, outageCodes } from "./outage.ts";
import { type PrivatePostgres, startPrivatePostgres } from "./private-postgres.ts";
import { testDatabaseUrl, uniqueSlug } from "./testing.ts";

/** The shape Prisma's pg adapter gives a PostgreSQL error it has no P-code for. */
function prismaDatabaseError(sqlState: string) {
  return Object.assign(new Error(`Database error. Code: \`${sqlState}\``), {
    name: "PrismaClientKnownRequestError",
    code: "P2039",
    meta: {
      driverAdapterError: Object.assign(new Error("DriverAdapterError"), {
        name: "DriverAdapterError",
        cause: { kind: "postgres", code: sqlState, originalCode: sqlState, originalMessage: "…" },
      }),
    },
  });
}

describe("isServiceOutage: every code it knows", () => {
  it.each([...outageCodes])("%s on the error itself, and as the cause of a wrapper", (code) => {
    expect(isServiceOutage(Object.assign(new Error("x"), { code }))).toBe(true);
    expect(isServiceOutage(new Error("wrapped", { cause: { code } }))).toBe(true);
  });

  it("knows the codes the API and the worker each missed before", () => {
    for (const code of ["57P02", "08001", "EPIPE", "P1001", "P1017", "57P03", "53300"]) {
      expect(outageCodes.has(code), code).toBe(true);
    }
  });

  it.each(["57P01", "57P03", "08006", "53300"])(
    "Prisma's P2039 carrying SQLSTATE %s is an outage",
    (sqlState) => {
      expect(isServiceOutage(prismaDatabaseError(sqlState))).toBe(true);
    },
  );

  it.each([
    "22P02", // invalid_text_representation
    "23505", // unique_violation
    "42P01", // undefined_table
    "57014", // query_canceled (a statement timeout is not an outage)
  ])("Prisma's P2039 carrying SQLSTATE %s is not", (sqlState) => {
    expect(isServiceOutage(prismaDatabaseError(sqlState))).toBe(false);
  });

  it.each(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"])(
    "a driver adapter error of kind %s is an outage",
    (kind) => {
      expect(isServiceOutage({ name: "DriverAdapterError", cause: { kind } })).toBe(true);
    },
  );

  it.each([
    "Connection terminated unexpectedly",
    "Connection terminated due to connection timeout",
    "timeout exceeded when trying to connect",
    "Client has encountered a connection error and is not queryable",
    "FATAL: the database system is starting up",
    "Connection is closed.",
    "Stream isn't writeable and enableOfflineQueue options is false",
    "Reached the max retries per request limit (which is 1). Refer to …",
    "Command timed out",
  ])("a code-less error saying %j is an outage", (message) => {
    expect(isServiceOutage(new Error(message))).toBe(true);
  });

  it.each([
    new Error("boom"),
    Object.assign(new Error("duplicate key"), { code: "23505" }),
    Object.assign(new Error("Unique constraint failed"), { code: "P2002" }),
    Object.assign(new Error("no space"), { code: "ENOSPC" }),
    new Error("a message that mentions a connection but is not one"),
    null,
    undefined,
    "ECONNREFUSED",
    42,
  ])("%s is not an outage", (error) => {
    expect(isServiceOutage(error)).toBe(false);
  });

  it("stops on a cause cycle", () => {
    const a: { message: string; cause?: unknown } = { message: "a" };
    const b = { message: "b", cause: a };
    a.cause = b;
    expect(isServiceOutage(a)).toBe(false);
  });
});

describe("isStatementTimeout", () => {
  it("knows SQLSTATE 57014 from pg and through Prisma's P2039, and nothing else", () => {
    expect(
      isStatementTimeout(Object.assign(new Error("canceling statement"), { code: "57014" })),
    ).toBe(true);
    expect(isStatementTimeout(prismaDatabaseError("57014"))).toBe(true);
    expect(isStatementTimeout(prismaDatabaseError("57P03"))).toBe(false);
    expect(isStatementTimeout(new Error("timeout"))).toBe(false);
    expect(isStatementTimeout(null)).toBe(false);
  });

  it("is a real pg statement timeout", async () => {
    const timed = createDatabase({ url: testDatabaseUrl, poolSize: 1, statementTimeoutMs: 100 });
    try {
      const error = await driversOf(timed)
        .pool.query("SELECT pg_sleep(2)")
        .then(
          () => null,
          (caught: unknown) => caught,
        );
      expect(isStatementTimeout(error)).toBe(true);
      expect(isServiceOutage(error)).toBe(false);
    } finally {
      await timed.close();
    }
  });
});

describe("isServiceOutage on real errors from both drivers", () => {
  let postgres: PrivatePostgres;
  let db: Database;
  const slug = uniqueSlug("outage");

  const failureOf = async (operation: () => Promise<unknown>) => {
    try {
      await operation();
    } catch (error) {
      return error as { code?: string };
    }
    throw new Error("the operation succeeded; an error was expected");
  };

  beforeAll(async () => {
    postgres = await startPrivatePostgres();
    await migrateDatabase(postgres.url("auditlog_outage_codes"));
    db = createDatabase({ url: postgres.url("auditlog_outage_codes"), poolSize: 2 });
    await createOrganization(db, { slug, name: "O", plan: "team" });
  }, 120_000);
  afterAll(async () => {
    await db?.close();
    await postgres?.destroy();
  });

  it("an ordinary failure is not an outage", async () => {
    const error = await failureOf(() => driversOf(db).pool.query("SELECT * FROM no_such_table"));
    expect(error.code).toBe("42P01");
    expect(isServiceOutage(error)).toBe(false);
  });

  it("PostgreSQL starting up (57P03): pg's error, and Prisma's P2039", async () => {
    await postgres.startRecovering();
    const recovering = createDatabase({ url: postgres.url("auditlog_outage_codes") });
    try {
      const fromPg = await failureOf(() => driversOf(recovering).pool.query("SELECT 1"));
      expect(fromPg.code).toBe("57P03");
      expect(isServiceOutage(fromPg)).toBe(true);
      const fromPrisma = await failureOf(() => findOrganizationBySlug(recovering, slug));
      expect(fromPrisma.code).toBe("P2039");
      expect(isServiceOutage(fromPrisma)).toBe(true);
    } finally {
      await recovering.close();
    }
  }, 60_000);

  it("PostgreSQL stopped: pg's and Prisma's connection errors", async () => {
    await postgres.stop();
    const stopped = createDatabase({ url: postgres.url("auditlog_outage_codes") });
    try {
      const fromPg = await failureOf(() => driversOf(stopped).pool.query("SELECT 1"));
      expect(fromPg.code).toBe("ECONNREFUSED");
      expect(isServiceOutage(fromPg)).toBe(true);
      const fromPrisma = await failureOf(() => findOrganizationBySlug(stopped, slug));
      expect(fromPrisma.code).toBe("P1001");
      expect(isServiceOutage(fromPrisma)).toBe(true);
    } finally {
      await stopped.close();
    }
  }, 60_000);
});
