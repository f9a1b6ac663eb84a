import type { Logger } from "@auditlog/observability";
import { isCluster, type RedisConnection } from "@auditlog/redis";
import type { Redis } from "ioredis";
import { addWithinDeadline } from "./add-within-deadline.ts";

/**
 * Whether the Redis behind the queues keeps a job it has acknowledged: the API answers 202 once
 * the add succeeds, so that is when an event must stop being losable.
 *
 * - `durable`: an append-only file written before each reply and fsynced every second or on
 *   every write, and no eviction.
 * - `volatile`: a setting loses acknowledged events (`reasons` names each one).
 * - `unknown`: a setting cannot be read (CONFIG is often disabled on managed Redis), so the
 *   promise is not proven.
 */
export interface QueueDurability {
  status: "durable" | "volatile" | "unknown";
  reasons: string[];
  /** What was read; `unknown` where a setting could not be. */
  settings: { appendonly: string; appendfsync: string; maxmemoryPolicy: string };
}

const unknownSetting = "unknown";

/**
 * Reads the settings and judges them: of the single Redis, or of every primary of a Redis
 * Cluster (each holds some queues; a replica promoted in a failover is read once it serves).
 * Throws when Redis does not answer at all, so a caller can keep its last reading.
 */
export async function readQueueDurability(redis: RedisConnection): Promise<QueueDurability> {
  if (!isCluster(redis)) return readNodeDurability(redis);
  const primaries = redis.nodes("master");
  if (primaries.length === 0) throw new Error("no Redis Cluster primary known yet");
  const readings = await Promise.all(
    primaries.map(async (node) => ({
      node: `${node.options.host}:${node.options.port}`,
      reading: await readNodeDurability(node),
    })),
  );
  return combineNodeDurability(readings);
}

/**
 * One judgement for a cluster: its worst node's status, every node's reasons prefixed with the
 * node, and the settings where every node agrees (`mixed` where they do not).
 */
export function combineNodeDurability(
  readings: { node: string; reading: QueueDurability }[],
): QueueDurability {
  const rank = { durable: 0, unknown: 1, volatile: 2 } as const;
  let status: QueueDurability["status"] = "durable";
  for (const { reading } of readings)
    if (rank[reading.status] > rank[status]) status = reading.status;
  const agreed = (name: keyof QueueDurability["settings"]) => {
    const values = new Set(readings.map(({ reading }) => reading.settings[name]));
    return values.size === 1 ? ([...values][0] as string) : "mixed";
  };
  return {
    status,
    reasons: readings.flatMap(({ node, reading }) =>
      reading.reasons.map((reason) => `${node}: ${reason}`),
    ),
    settings: {
      appendonly: agreed("appendonly"),
      appendfsync: agreed("appendfsync"),
      maxmemoryPolicy: agreed("maxmemoryPolicy"),
    },
  };
}

/**
 * One node. INFO carries the append-only state and the eviction policy and is allowed where
 * CONFIG is not (managed services); only appendfsync needs CONFIG GET.
 */
async function readNodeDurability(redis: Redis): Promise<QueueDurability> {
  const [persistence, memory, appendfsync] = await Promise.all([
    redis.info("persistence"),
    redis.info("memory"),
    redis.config("GET", "appendfsync").then(
      (reply) => (reply as string[])[1] ?? unknownSetting,
      (error: Error) => {
        // A refused command is an answer; a connection that failed is not.
        if (error.name !== "ReplyError") throw error;
        return unknownSetting;
      },
    ),
  ]);
  const field = (info: string, name: string) =>
    new RegExp(`^${name}:(.*)$`, "m").exec(info)?.[1]?.trim();
  const aofEnabled = field(persistence, "aof_enabled");
  return judgeQueueDurability({
    appendonly: aofEnabled === undefined ? unknownSetting : aofEnabled === "1" ? "yes" : "no",
    appendfsync,
    maxmemoryPolicy: field(memory, "maxmemory_policy") ?? unknownSetting,
    aofLastWriteStatus: field(persistence, "aof_last_write_status") ?? "ok",
  });
}

export function judgeQueueDurability(
  read: QueueDurability["settings"] & { aofLastWriteStatus: string },
): QueueDurability {
  const { aofLastWriteStatus, ...settings } = read;
  const volatile: string[] = [];
  const unknown: string[] = [];
  const cannotRead = (name: string) =>
    unknown.push(`Redis ${name} cannot be read (command disabled?): durability is not proven`);

  if (settings.appendonly === unknownSetting) cannotRead("appendonly");
  else if (settings.appendonly !== "yes") {
    volatile.push(
      "Redis appendonly is off: a restart or crash of Redis loses every queued event, acknowledged or not",
    );
  } else if (aofLastWriteStatus !== "ok") {
    volatile.push("Redis cannot write its append-only file (disk full or read-only?)");
  }
  if (settings.appendfsync === unknownSetting) cannotRead("appendfsync");
  else if (settings.appendfsync === "no") {
    volatile.push(
      "Redis appendfsync is no: a crash of its machine can lose the last 30 seconds or so of acknowledged events",
    );
  }
  if (settings.maxmemoryPolicy === unknownSetting) cannotRead("maxmemory-policy");
  else if (settings.maxmemoryPolicy !== "noeviction") {
    volatile.push(
      `Redis maxmemory-policy is ${settings.maxmemoryPolicy}: at its memory limit Redis may evict queued events`,
    );
  }
  const status = volatile.length > 0 ? "volatile" : unknown.length > 0 ? "unknown" : "durable";
  return { status, reasons: [...volatile, ...unknown], settings };
}

export interface QueueDurabilityMonitor {
  /**
   * The last reading, read again when older than the period (readiness probes come often; the
   * settings rarely change). While Redis does not answer: the last reading, or `unknown`.
   */
  current(): Promise<QueueDurability>;
  /** Reads the settings now. */
  refresh(): Promise<QueueDurability>;
}

/**
 * Readings for `/readyz` and the boot log; never on the ingest path. Logs each change of status
 * (the first reading included): an error when Redis cannot keep acknowledged events or cannot
 * show that it does, a warning instead when ALLOW_VOLATILE_QUEUE accepts that.
 */
export function createQueueDurabilityMonitor(
  redis: RedisConnection,
  options: { logger: Logger; allowVolatile: boolean; timeoutMs: number; periodMs?: number },
): QueueDurabilityMonitor {
  const periodMs = options.periodMs ?? 30_000;
  let last: { reading: QueueDurability; at: number } | undefined;
  let reported: QueueDurability["status"] | undefined;
  let inFlight: Promise<QueueDurability> | undefined;

  const report = (reading: QueueDurability) => {
    if (reading.status === reported) return;
    reported = reading.status;
    const fields = { ...reading.settings, reasons: reading.reasons };
    if (reading.status === "durable") {
      options.logger.info("Redis keeps acknowledged events", fields);
      return;
    }
    const problem =
      reading.status === "volatile"
        ? "Redis cannot keep acknowledged events"
        : "Cannot tell whether Redis keeps acknowledged events";
    if (options.allowVolatile) {
      options.logger.warn(`${problem}; ALLOW_VOLATILE_QUEUE=true accepts that`, fields);
    } else {
      options.logger.error(
        `${problem}: /readyz answers 503 until its settings are fixed (README: Redis settings), or ALLOW_VOLATILE_QUEUE=true accepts the risk`,
        fields,
      );
    }
  };

  const read = async (): Promise<QueueDurability> => {
    try {
      let reading: QueueDurability | undefined;
      // Waits for a client still connecting (at boot), within the bound.
      await addWithinDeadline(redis, options.timeoutMs, async () => {
        reading = await readQueueDurability(redis);
      });
      if (!reading) throw new Error("no reading");
      last = { reading, at: Date.now() };
      report(reading);
      return reading;
    } catch (error) {
      if (last) return last.reading;
      const unread: QueueDurability = {
        status: "unknown",
        reasons: [`Redis settings cannot be read: ${(error as Error).message}`],
        settings: {
          appendonly: unknownSetting,
          appendfsync: unknownSetting,
          maxmemoryPolicy: unknownSetting,
        },
      };
      report(unread);
      return unread;
    }
  };

  const refresh = () => {
    inFlight ??= read().finally(() => {
      inFlight = undefined;
    });
    return inFlight;
  };

  return {
    refresh,
    current() {
      if (last && Date.now() - last.at < periodMs) return Promise.resolve(last.reading);
      return refresh();
    },
  };
}
