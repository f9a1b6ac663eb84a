import type pg from "pg";

/** DATABASE_READ_URL and its bounds, as `createDatabase` takes them. */
export interface ReadReplicaOptions {
  /** A PostgreSQL streaming replica (hot standby) of DATABASE_URL's server. */
  url: string;
  /**
   * READ_REPLICA_MAX_LAG_MS: reads go to the primary while the replica may be further behind
   * than this, and return once it is back within half of it (no flapping at the bound).
   */
  maxLagMs: number;
  /** READ_REPLICA_CHECK_INTERVAL_MS: how often the lag is measured (two one-row queries). */
  checkIntervalMs: number;
  /** Connections of the replica's pool (the primary's `poolSize` when unset). */
  poolSize?: number;
}

/** Where reads go now and why, with the last measurement (for `/readyz` and `/metrics`). */
export interface ReadReplicaStatus {
  /** `replica` while its lag is within READ_REPLICA_MAX_LAG_MS, `primary` otherwise. */
  readsFrom: "replica" | "primary";
  /** Why reads are on the primary (absent while they go to the replica). */
  reason?: string;
  /**
   * How far behind the primary the replica was at the last measurement: the time since the
   * primary last had nothing the replica lacks. Null before the first measurement that found it
   * caught up with an earlier reading of the primary, or while it does not answer.
   */
  lagMs: number | null;
  /** WAL the replica has not replayed yet at the last measurement (primary position − replayed). */
  lagBytes: number | null;
  maxLagMs: number;
  /** When the last measurement finished (successful or not). */
  checkedAt: string | null;
}

interface Sample {
  /** `Date.now()` just before the primary's WAL position was read. */
  at: number;
  lsn: bigint;
}

const lsnQuery = (fn: string) => `pg_wal_lsn_diff(${fn}, '0/0')::text`;

/**
 * Measures a streaming replica's lag against its primary on this process's own clock (no clock
 * agreement between the servers, no heartbeat table written on the primary): every interval it
 * reads the primary's WAL position, then the replica's replayed position. The replica holds
 * everything the primary had committed when it last read a position the replica has since
 * replayed, so "now minus the time of that reading" bounds how stale a read from it can be,
 * whether the primary is busy, idle, or the replica's link is cut (its replay stops advancing,
 * the bound grows). An idle primary's position stays put and the replica reaches it: lag 0.
 *
 * The replica must be a standby (`pg_is_in_recovery()`) of this very server (the same
 * `system_identifier`): a promoted old replica or a wrong URL would serve another history.
 */
export class ReplicaLagMonitor {
  #samples: Sample[] = [];
  /** The replica has everything committed on the primary before this time (ms epoch). */
  #freshAsOf: number | undefined;
  #lagMs: number | null = null;
  #lagBytes: number | null = null;
  #checkedAt: number | undefined;
  #problem: string | undefined = "the replica's lag has not been measured yet";
  #usingReplica = false;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> | undefined;
  #closed = false;
  #systemIdentifiers: { primary: string; replica: string } | undefined;

  constructor(
    private readonly primary: pg.Pool,
    private readonly replica: pg.Pool,
    private readonly options: Pick<ReadReplicaOptions, "maxLagMs" | "checkIntervalMs">,
    private readonly now: () => number = Date.now,
  ) {}

  /** Starts measuring (first measurement at once); the timer does not hold the process open. */
  start(): void {
    const tick = () => {
      if (this.#closed) return;
      this.#running = this.check().finally(() => {
        if (!this.#closed) this.#timer = setTimeout(tick, this.options.checkIntervalMs).unref();
      });
    };
    tick();
  }

  async close(): Promise<void> {
    this.#closed = true;
    clearTimeout(this.#timer);
    await this.#running?.catch(() => {});
  }

  /**
   * Whether a read may go to the replica now. Between measurements the bound keeps growing with
   * the clock, so a replica that stalls is left within one interval of passing the bound.
   */
  useReplica(): boolean {
    if (this.#problem !== undefined || this.#freshAsOf === undefined) return false;
    const staleness = this.now() - this.#freshAsOf;
    if (staleness > this.options.maxLagMs) this.#usingReplica = false;
    return this.#usingReplica;
  }

  status(): ReadReplicaStatus {
    const replica = this.useReplica();
    // Fallen back for lag: the bound as it stands now (what the decision used), which grows
    // past the last measurement while the replica stays behind.
    const lagMs =
      !replica &&
      this.#problem === undefined &&
      this.#freshAsOf !== undefined &&
      this.#lagMs !== null
        ? Math.max(this.#lagMs, this.now() - this.#freshAsOf)
        : this.#lagMs;
    const reason = replica
      ? undefined
      : (this.#problem ??
        (lagMs === null
          ? "the replica has not caught up with a measured primary position yet"
          : `the replica is behind by about ${Math.round(lagMs)} ms; reads return to it within ${Math.round(this.options.maxLagMs / 2)} ms (READ_REPLICA_MAX_LAG_MS ${this.options.maxLagMs})`));
    return {
      readsFrom: replica ? "replica" : "primary",
      ...(reason ? { reason } : {}),
      lagMs,
      lagBytes: this.#lagBytes,
      maxLagMs: this.options.maxLagMs,
      checkedAt: this.#checkedAt === undefined ? null : new Date(this.#checkedAt).toISOString(),
    };
  }

  /**
   * Resolves true once the replica has replayed everything the primary had written when this
   * was called (a read there then sees those writes), false when that takes longer than
   * `timeoutMs` or the replica is not usable.
   */
  async caughtUp(timeoutMs: number, pollMs = 20): Promise<boolean> {
    if (!this.useReplica()) return false;
    const target = await this.#primaryPosition();
    const deadline = this.now() + timeoutMs;
    for (;;) {
      const { replayed } = await this.#replicaPosition();
      if (replayed >= target) return true;
      if (this.now() >= deadline || this.#closed) return false;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }

  /** One measurement; never rejects (a failure is the state it reports). */
  async check(): Promise<void> {
    try {
      this.#systemIdentifiers ??= await this.#readSystemIdentifiers();
      const { primary, replica } = this.#systemIdentifiers;
      if (primary !== replica) {
        this.#systemIdentifiers = undefined;
        throw new ReplicaRefused(
          `DATABASE_READ_URL's server is not a replica of DATABASE_URL's (system identifier ${replica}, primary ${primary})`,
        );
      }
      // The primary first: whatever it had then, a replica that replayed that far has too.
      const at = this.now();
      const lsn = await this.#primaryPosition();
      let { replayed, inRecovery } = await this.#replicaPosition();
      // A replica a few milliseconds behind (a busy primary's WAL always moves) is watched for
      // a moment until it has that position, so a small lag is measured as what it is rather
      // than as one check interval.
      const watchUntil = at + Math.min(200, this.options.checkIntervalMs / 2);
      while (inRecovery && replayed < lsn && this.now() < watchUntil && !this.#closed) {
        await new Promise((resolve) => setTimeout(resolve, 20));
        ({ replayed, inRecovery } = await this.#replicaPosition());
      }
      const seenAt = this.now();
      if (!inRecovery) {
        throw new ReplicaRefused(
          "DATABASE_READ_URL's server is not in recovery (promoted, or not a standby)",
        );
      }
      this.#samples.push({ at, lsn });
      // The newest reading the replica has reached is its freshness; older ones are not needed.
      let reached = -1;
      for (let i = 0; i < this.#samples.length; i++) {
        if ((this.#samples[i] as Sample).lsn <= replayed) reached = i;
      }
      if (reached >= 0) {
        this.#freshAsOf = (this.#samples[reached] as Sample).at;
        this.#samples.splice(0, reached);
      }
      // Bounded: far behind, only the oldest reading it has not reached matters much.
      if (this.#samples.length > 1000) this.#samples.splice(1, this.#samples.length - 1000);
      this.#checkedAt = seenAt;
      this.#lagBytes = Number(lsn > replayed ? lsn - replayed : 0n);
      // As of the replica's last reading: how old the newest primary state it surely holds is.
      this.#lagMs = this.#freshAsOf === undefined ? null : Math.max(0, seenAt - this.#freshAsOf);
      this.#problem = undefined;
      // Back to the replica only well within the bound, so reads do not flap at its edge.
      if (this.#lagMs !== null) {
        if (this.#lagMs <= this.options.maxLagMs / 2) this.#usingReplica = true;
        else if (this.#lagMs > this.options.maxLagMs) this.#usingReplica = false;
      }
    } catch (error) {
      this.#checkedAt = this.now();
      this.#usingReplica = false;
      this.#lagMs = null;
      this.#lagBytes = null;
      this.#problem =
        error instanceof ReplicaRefused
          ? error.message
          : `the replica or the primary did not answer the lag measurement (${error instanceof Error ? error.message.slice(0, 200) : String(error)})`;
    }
  }

  async #readSystemIdentifiers(): Promise<{ primary: string; replica: string }> {
    const sql = "SELECT system_identifier::text AS id FROM pg_control_system()";
    const [primary, replica] = await Promise.all([
      this.#query<{ id: string }>(this.primary, sql),
      this.#query<{ id: string }>(this.replica, sql),
    ]);
    return { primary: primary.id, replica: replica.id };
  }

  async #primaryPosition(): Promise<bigint> {
    const row = await this.#query<{ lsn: string }>(
      this.primary,
      `SELECT ${lsnQuery("pg_current_wal_lsn()")} AS lsn`,
    );
    return BigInt(row.lsn);
  }

  async #replicaPosition(): Promise<{ replayed: bigint; inRecovery: boolean }> {
    const row = await this.#query<{ lsn: string | null; in_recovery: boolean }>(
      this.replica,
      `SELECT ${lsnQuery("pg_last_wal_replay_lsn()")} AS lsn, pg_is_in_recovery() AS in_recovery`,
    );
    // Null on a server that is not in recovery.
    return { replayed: BigInt(row.lsn ?? "0"), inRecovery: row.in_recovery };
  }

  /** A one-row query that gives up after the check interval (at least a second). */
  async #query<T>(pool: pg.Pool, sql: string): Promise<T> {
    let timer: NodeJS.Timeout | undefined;
    const timeoutMs = Math.max(1000, this.options.checkIntervalMs);
    try {
      const result = await Promise.race([
        pool.query(sql),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Error(`no answer within ${timeoutMs} ms`)),
            timeoutMs,
          );
        }),
      ]);
      return result.rows[0] as T;
    } finally {
      clearTimeout(timer);
    }
  }
}

class ReplicaRefused extends Error {}
