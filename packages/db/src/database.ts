import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";

export interface DatabaseOptions {
  url: string;
  /** Connections for the hot paths (batch writes, keyset pages, streamed exports). */
  poolSize?: number;
  /** Connections of Prisma's own pool, opened on first use of a Prisma-backed function. */
  ormPoolSize?: number;
  /**
   * PostgreSQL cancels any statement of this handle that runs longer (SQLSTATE 57014, see
   * `isStatementTimeout`). For processes that answer people (the API): one tenant's expensive
   * search must not hold connections and CPU every other tenant needs. Unset: no limit (the
   * worker, whose exports stream for minutes).
   */
  statementTimeoutMs?: number;
}

/**
 * The one handle an app holds on PostgreSQL. It owns both drivers: a plain pg pool for the hot
 * paths and Prisma (on the pg driver adapter) for ordinary reads and writes. Every data function
 * of this package takes it and picks its driver itself, so no app ever chooses one, and a process
 * that never calls a Prisma-backed function (an export-only worker) never starts Prisma's query
 * compiler (about 45 MB).
 */
export interface Database {
  /** Resolves once PostgreSQL answers a trivial query; rejects (or times out) otherwise. */
  ping(timeoutMs?: number): Promise<void>;
  /** Closes both pools; idempotent. */
  close(): Promise<void>;
}

class PostgresDatabase implements Database {
  readonly pool: pg.Pool;
  #prisma: PrismaClient | undefined;
  #closing: Promise<void> | undefined;

  constructor(private readonly options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
    });
    // An idle client losing its connection (PostgreSQL restarting) must not crash the process.
    this.pool.on("error", () => {});
    // Nor one that is checked out (a COPY, a transaction, a snapshot between two pages): pg
    // takes the pool's listener off a client while it is lent, and an "error" event without a
    // listener kills the process. The statement running or next sent fails all the same, and
    // the pool drops the broken client when it is given back.
    this.pool.on("connect", (client) => client.on("error", () => {}));
  }

  get prisma(): PrismaClient {
    if (this.#closing) throw new Error("the database handle is closed");
    this.#prisma ??= new PrismaClient({
      adapter: new PrismaPg({
        connectionString: this.options.url,
        max: this.options.ormPoolSize ?? 5,
        ...(this.options.statementTimeoutMs
          ? { statement_timeout: this.options.statementTimeoutMs }
          : {}),
      }),
    });
    return this.#prisma;
  }

  async ping(timeoutMs = 1000): Promise<void> {
    let timer: NodeJS.Timeout | undefined;
    try {
      await Promise.race([
        this.pool.query("SELECT 1"),
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error("database ping timed out")), timeoutMs);
        }),
      ]);
    } finally {
      clearTimeout(timer);
    }
  }

  close(): Promise<void> {
    this.#closing ??= Promise.allSettled([this.#prisma?.$disconnect(), this.pool.end()]).then(
      () => {},
    );
    return this.#closing;
  }
}

export function createDatabase(options: DatabaseOptions): Database {
  return new PostgresDatabase(options);
}

/**
 * The drivers behind a handle. Only this package's data functions use it, and tools that measure
 * or seed PostgreSQL itself (the bench, test assertions) through `@auditlog/db/drivers`.
 */
export function driversOf(db: Database): { pool: pg.Pool; readonly prisma: PrismaClient } {
  if (!(db instanceof PostgresDatabase)) {
    throw new TypeError("not a database handle made by createDatabase");
  }
  return db;
}

/** The pg pool of a handle: for this package's SQL. */
export function sqlOf(db: Database): pg.Pool {
  return driversOf(db).pool;
}

/** The Prisma client of a handle (started on first use): for this package's ORM calls. */
export function ormOf(db: Database): PrismaClient {
  return driversOf(db).prisma;
}

/** Where a statement can run: the pool, or one client of it (inside a transaction). */
export type Queryable = pg.Pool | pg.PoolClient;
