import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/prisma/client.ts";
import {
  type ReadReplicaOptions,
  type ReadReplicaStatus,
  ReplicaLagMonitor,
} from "./read-replica.ts";
import { postgresStartupOptions } from "./session-settings.ts";

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
  /**
   * DATABASE_READ_URL: a streaming replica that `forReads()` hands out while its lag is within
   * bounds. Unset: every read goes to `url`.
   */
  readReplica?: ReadReplicaOptions;
  /** `application_name` of this handle's connections (shown in `pg_stat_activity`). */
  applicationName?: string;
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
  /**
   * The handle for reads that may trail the latest writes by up to READ_REPLICA_MAX_LAG_MS
   * (lists, an entry, histograms, facets, the feed, exports, stream deliveries): the read replica
   * while its measured lag is within bounds, this handle otherwise (no replica configured, lag
   * too high, replica down). Anything that must see its own or a just-made write (sessions,
   * keys, export status) keeps using this handle itself, the primary.
   */
  forReads(): Database;
  /**
   * A reader that has everything committed on the primary before this call: the replica once it
   * has replayed that far (waiting up to READ_REPLICA_MAX_LAG_MS), else the primary. For a read
   * that follows a write of its own (an export cut at the checkpoint it just signed).
   */
  forReadsCaughtUp(): Promise<Database>;
  /** Where reads go and the replica's last lag measurement; null without a replica. */
  readReplicaStatus(): ReadReplicaStatus | null;
  /** Closes both pools (and the replica's); idempotent. */
  close(): Promise<void>;
}

class PostgresDatabase implements Database {
  readonly pool: pg.Pool;
  #prisma: PrismaClient | undefined;
  #closing: Promise<void> | undefined;
  /** The replica's handle and its lag monitor, with DATABASE_READ_URL. */
  #replica: { db: PostgresDatabase; monitor: ReplicaLagMonitor } | undefined;

  constructor(private readonly options: DatabaseOptions) {
    this.pool = new pg.Pool({
      connectionString: options.url,
      max: options.poolSize ?? 10,
      options: postgresStartupOptions,
      ...(options.statementTimeoutMs ? { statement_timeout: options.statementTimeoutMs } : {}),
      ...(options.applicationName ? { application_name: options.applicationName } : {}),
    });
    // An idle client losing its connection (PostgreSQL restarting) must not crash the process.
    this.pool.on("error", () => {});
    // Nor one that is checked out (a COPY, a transaction, a snapshot between two pages): pg
    // takes the pool's listener off a client while it is lent, and an "error" event without a
    // listener kills the process. The statement running or next sent fails all the same, and
    // the pool drops the broken client when it is given back.
    this.pool.on("connect", (client) => client.on("error", () => {}));
    if (options.readReplica) {
      const { url, poolSize } = options.readReplica;
      const db = new PostgresDatabase({
        url,
        poolSize: poolSize ?? options.poolSize ?? 10,
        ...(options.ormPoolSize !== undefined ? { ormPoolSize: options.ormPoolSize } : {}),
        ...(options.statementTimeoutMs ? { statementTimeoutMs: options.statementTimeoutMs } : {}),
        // Tells the replica's sessions apart from the primary's in pg_stat_activity.
        applicationName: `${options.applicationName ?? "auditlog"}-read`,
      });
      const monitor = new ReplicaLagMonitor(this.pool, db.pool, options.readReplica);
      monitor.start();
      this.#replica = { db, monitor };
    }
  }

  forReads(): Database {
    const replica = this.#replica;
    return replica?.monitor.useReplica() ? replica.db : this;
  }

  async forReadsCaughtUp(): Promise<Database> {
    const replica = this.#replica;
    if (!replica) return this;
    const caughtUp = await replica.monitor
      .caughtUp(this.options.readReplica?.maxLagMs ?? 0)
      .catch(() => false);
    return caughtUp ? replica.db : this;
  }

  readReplicaStatus(): ReadReplicaStatus | null {
    return this.#replica?.monitor.status() ?? null;
  }

  get prisma(): PrismaClient {
    if (this.#closing) throw new Error("the database handle is closed");
    this.#prisma ??= new PrismaClient({
      adapter: new PrismaPg({
        connectionString: this.options.url,
        max: this.options.ormPoolSize ?? 5,
        options: postgresStartupOptions,
        ...(this.options.statementTimeoutMs
          ? { statement_timeout: this.options.statementTimeoutMs }
          : {}),
        ...(this.options.applicationName ? { application_name: this.options.applicationName } : {}),
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
    this.#closing ??= (async () => {
      // The monitor first: its next measurement would use the pools closed below.
      await this.#replica?.monitor.close();
      await Promise.allSettled([
        this.#replica?.db.close(),
        this.#prisma?.$disconnect(),
        this.pool.end(),
      ]);
    })();
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
