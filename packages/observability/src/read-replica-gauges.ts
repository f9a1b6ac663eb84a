import { Gauge, type Registry } from "prom-client";

/** What the gauges read: `Database.readReplicaStatus()` of @auditlog/db (null without one). */
export interface ReadReplicaReading {
  readsFrom: "replica" | "primary";
  lagMs: number | null;
  lagBytes: number | null;
}

/**
 * The read replica's gauges (DATABASE_READ_URL), the same in the API and the worker: read from
 * the process's last lag measurement when scraped, never a query of their own. Nothing is
 * registered without a replica, so a deployment without one shows no empty series.
 */
export function registerReadReplicaGauges(
  registry: Registry,
  read: () => ReadReplicaReading | null,
): void {
  if (read() === null) return;
  const registers = [registry];
  new Gauge({
    name: "auditlog_read_replica_lag_seconds",
    help: "How far the read replica trailed the primary at the last measurement (absent while it does not answer)",
    registers,
    collect() {
      this.reset();
      const lagMs = read()?.lagMs;
      if (lagMs !== null && lagMs !== undefined) this.set(lagMs / 1000);
    },
  });
  new Gauge({
    name: "auditlog_read_replica_lag_bytes",
    help: "WAL the read replica had not replayed yet at the last measurement",
    registers,
    collect() {
      this.reset();
      const lagBytes = read()?.lagBytes;
      if (lagBytes !== null && lagBytes !== undefined) this.set(lagBytes);
    },
  });
  new Gauge({
    name: "auditlog_read_replica_serving",
    help: "1 while reads go to the read replica, 0 while they fall back to the primary (lag above READ_REPLICA_MAX_LAG_MS, or the replica down)",
    registers,
    collect() {
      this.set(read()?.readsFrom === "replica" ? 1 : 0);
    },
  });
}
