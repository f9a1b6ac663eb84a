/**
 * The ingest worker's whole CPU per event on real Redis and PostgreSQL, for before/after pairs
 * on a shared machine (issue 21, part 1): a worker (every role but streams, as in `pnpm bench`)
 * is started from each given checkout in turn, idles, then drains 30,000 events in jobs of 100
 * (the API's job shape, stamped with the catalog fingerprint; `EVENTS_PER_JOB=500` prices the
 * per-job work) into an organisation of its own, and its CPU (from /proc, startup left out)
 * until the checkpoints cover every entry is divided by
 * the events: jobs, entries, COPY, leaf hashing, garbage collection and all. Rounds alternate
 * the checkouts, so load swings hit each alike.
 * `cd bench && BENCH_DATABASE_URL=… [EVENTS_PER_JOB=100] npx tsx worker-drain-cpu.ts <checkout>[|node options] …`
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { setTimeout as sleep } from "node:timers/promises";
import { newId } from "@auditlog/events";
import { catalogFingerprint, jobOptions } from "@auditlog/events/jobs";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import pg from "pg";
import { prepareBodies } from "./lib/ingest.ts";
import { benchCheckpointKeyFile, benchDatabaseUrl, benchLogOrigin, redisUrl } from "./lib/stack.ts";

// Events per job: 100 is what the API writes (one request's batch); other sizes price the
// per-job work (BullMQ's fetch and finish, the job's own steps) against the per-event work.
const PER_JOB = Number(process.env.EVENTS_PER_JOB ?? 100);
if (!Number.isInteger(PER_JOB) || PER_JOB < 1 || 30_000 % PER_JOB !== 0) {
  throw new Error("EVENTS_PER_JOB must divide 30,000");
}
const JOBS = 30_000 / PER_JOB;
const roots = process.argv.slice(2);
const rounds = Number(process.env.ROUNDS ?? 3);
const bodies = prepareBodies(JOBS, PER_JOB);
const pool = new pg.Pool({ connectionString: benchDatabaseUrl, max: 2 });

function cpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

/** A checkout, with Node options for its worker after a `|` (`../other|--max-semi-space-size=64`). */
async function drain(variant: string): Promise<number> {
  const [root = ".", ...nodeArgs] = variant.split("|");
  const queueName = `drain-${Date.now().toString(36)}`;
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue(queueName, { connection });
  const child = spawn(
    process.execPath,
    [...nodeArgs, "--import", "tsx", "apps/worker/src/main.ts"],
    {
      cwd: root,
      env: {
        ...process.env,
        LOG_LEVEL: "warn",
        DATABASE_URL: benchDatabaseUrl,
        REDIS_URL: redisUrl,
        INGEST_QUEUE: queueName,
        EXPORT_QUEUE: `${queueName}-export`,
        WORKER_ROLES: "ingest,checkpoints",
        METRICS: "false",
        CHECKPOINT_KEY_FILE: benchCheckpointKeyFile,
        LOG_ORIGIN: benchLogOrigin,
      },
      stdio: ["ignore", "ignore", "inherit"],
    },
  );
  try {
    while ((await queue.getWorkersCount()) === 0) await sleep(100);
    await sleep(2000);
    const orgId = newId("org");
    const pid = child.pid as number;
    const started = cpuUs(pid);
    const receivedAt = new Date();
    await queue.addBulk(
      bodies.map((body) => {
        const text = receivedAt.toISOString();
        const events = (JSON.parse(body) as { events: Record<string, unknown>[] }).events.map(
          (event) => ({ ...event, id: newId("evt", receivedAt), occurredAt: text }),
        );
        return {
          name: "ingest.batch",
          data: { orgId, receivedAt: text, catalog: catalogFingerprint, events },
          opts: jobOptions("ingest", "ingest.batch"),
        };
      }),
    );
    const events = JOBS * PER_JOB;
    for (;;) {
      const { rows } = await pool.query<{ size: number }>(
        "SELECT size::float8 AS size FROM audit_log_trees WHERE org_id = $1",
        [orgId],
      );
      if ((rows[0]?.size ?? 0) >= events) break;
      await sleep(100);
    }
    return (cpuUs(pid) - started) / events;
  } finally {
    child.kill("SIGTERM");
    await new Promise((resolve) => child.once("exit", resolve));
    await queue.obliterate({ force: true });
    await queue.close();
    connection.disconnect();
  }
}

const results = new Map<string, number[]>(roots.map((root) => [root, []]));
for (let round = 0; round < rounds; round++) {
  for (const root of round % 2 === 0 ? roots : [...roots].reverse()) {
    const load = readFileSync("/proc/loadavg", "utf8").split(" ")[0];
    const micros = await drain(root);
    results.get(root)?.push(micros);
    process.stdout.write(`${root}: ${micros.toFixed(1)} µs CPU per event (load ${load})\n`);
  }
}
for (const [root, list] of results) {
  const sorted = [...list].sort((a, b) => a - b);
  process.stdout.write(
    `${root}: median ${sorted[Math.floor(sorted.length / 2)]?.toFixed(1)}, best ${sorted[0]?.toFixed(1)} µs per event\n`,
  );
}
await pool.end();
