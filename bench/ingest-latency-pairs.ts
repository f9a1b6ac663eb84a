/**
 * The API's latency tail with the real worker running, under settings switched in turn within one
 * run, so that a busy machine's drift falls on every setting alike: 100-event batches evenly
 * paced (open loop) at `--rate` for `--seconds` per turn, the settings in rotation for `--rounds`
 * rounds, the queue drained between turns. Two APIs share the queue and the worker: one with
 * node's defaults and one with `--api-node-args`; each turn posts to one of them. The worker's
 * threads are reniced between turns: `self` leaves them as the worker set them (it raises only its
 * main thread's niceness, WORKER_NICENESS), `all` gives every thread the main thread's niceness,
 * as `nice -n` at exec would. See BENCHMARKS.md (issue 21, the API's latency tail).
 *
 * `BENCH_DATABASE_URL=… npx tsx ingest-latency-pairs.ts [--rate 75] [--seconds 8] [--rounds 3]
 *  [--api-node-args=--max-semi-space-size=32] [--worker-threads self,all]`
 */
import { readdirSync, readFileSync } from "node:fs";
import { setPriority } from "node:os";
import { parseArgs } from "node:util";
import { createDatabase, createOrganization } from "@auditlog/db";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { prepareBodies } from "./lib/ingest.ts";
import {
  benchDatabaseUrl,
  benchSigner,
  createIngestKey,
  freePort,
  redisUrl,
  runId,
  stackQueues,
  startApi,
  startWorker,
} from "./lib/stack.ts";
import { log, pacedLoad, percentile, round, sleep } from "./lib/util.ts";

const { values } = parseArgs({
  options: {
    rate: { type: "string", default: "75" },
    seconds: { type: "string", default: "8" },
    rounds: { type: "string", default: "3" },
    "api-node-args": { type: "string", default: "" },
    "worker-threads": { type: "string", default: "self,all" },
    "worker-concurrency": { type: "string", default: "32" },
  },
});

/** Each thread of a process and its niceness (/proc/<pid>/task/<tid>/stat, field 19). */
function threadNiceness(pid: number): Map<number, number> {
  const threads = new Map<number, number>();
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    threads.set(Number(tid), Number(fields[16]));
  }
  return threads;
}

/** CPU seconds of a process's main thread and of all its other threads together. */
function threadCpu(pid: number): { main: number; others: number } {
  const cpu = { main: 0, others: 0 };
  for (const tid of readdirSync(`/proc/${pid}/task`)) {
    const stat = readFileSync(`/proc/${pid}/task/${tid}/stat`, "utf8");
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const seconds = (Number(fields[11]) + Number(fields[12])) / 100;
    if (Number(tid) === pid) cpu.main += seconds;
    else cpu.others += seconds;
  }
  return cpu;
}

await benchSigner();
const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
const slug = `bench-latpairs-${runId}`;
await createOrganization(db, { slug, name: slug, plan: "enterprise" });
const key = await createIngestKey(db, slug);
const queues = stackQueues("latpairs");
const apiArgs = values["api-node-args"].split(" ").filter(Boolean);
async function api(name: string, nodeArgs: string[]) {
  const port = await freePort();
  return { name, port, process: await startApi(port, queues, nodeArgs) };
}
const apis = [
  await api("API default", []),
  ...(apiArgs.length > 0 ? [await api(`API ${apiArgs.join(" ")}`, apiArgs)] : []),
];
const worker = await startWorker("latpairs-worker", queues, {
  concurrency: Number(values["worker-concurrency"]),
});
const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
const queue = new Queue(queues.ingest, { connection });
const initial = threadNiceness(worker.pid);
const mainNiceness = initial.get(worker.pid) ?? 0;
const threadModes = values["worker-threads"].split(",");

function setWorkerThreads(mode: string): void {
  for (const [tid, niceness] of threadNiceness(worker.pid)) {
    // Threads started since keep what they inherited from the main thread.
    const target = mode === "all" ? mainNiceness : (initial.get(tid) ?? niceness);
    if (niceness !== target) setPriority(tid, target);
  }
}

async function drain(): Promise<void> {
  for (;;) {
    const counts = await queue.getJobCounts("waiting", "active", "delayed", "prioritized");
    if (Object.values(counts).every((n) => n === 0)) return;
    await sleep(250);
  }
}

const bodies = prepareBodies(200, 100);
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const rate = Number(values.rate);
const seconds = Number(values.seconds);
const results = new Map<string, number[][]>();
try {
  log(
    `worker ${worker.pid}: main thread niceness ${mainNiceness}, ${initial.size} threads (${[...initial.values()].filter((n) => n !== mainNiceness).length} at another niceness)`,
  );
  for (const api of apis) {
    // Warm-up: the first requests compile the hot path.
    await pacedLoad(
      `http://127.0.0.1:${api.port}/v1/events`,
      { method: "POST", headers, bodies },
      rate,
      3,
    );
  }
  await drain();
  for (let roundIndex = 0; roundIndex < Number(values.rounds); roundIndex++) {
    for (const mode of threadModes) {
      for (const api of apis) {
        setWorkerThreads(mode);
        const name = `${api.name}, worker threads ${mode}`;
        const cpuBefore = threadCpu(worker.pid);
        const paced = await pacedLoad(
          `http://127.0.0.1:${api.port}/v1/events`,
          { method: "POST", headers, bodies },
          rate,
          seconds,
        );
        await drain();
        const cpuAfter = threadCpu(worker.pid);
        const main = cpuAfter.main - cpuBefore.main;
        const others = cpuAfter.others - cpuBefore.others;
        const ms = paced.latencies;
        results.set(name, [...(results.get(name) ?? []), ms]);
        log(
          `${name}: p50 ${round(percentile(ms, 50), 2)} ms, p99 ${round(percentile(ms, 99), 2)} ms, max ${round(Math.max(...ms), 1)} ms, errors ${paced.errors}; the worker's CPU ${round(main + others, 2)} s, ${round((100 * others) / (main + others), 1)}% on threads other than its main one (load ${readFileSync("/proc/loadavg", "utf8").split(" ")[0]})`,
        );
      }
    }
  }
  for (const [name, runs] of results) {
    const all = runs.flat();
    log(
      `${name}: over ${runs.length} turns p50 ${round(percentile(all, 50), 2)} ms, p99 ${round(percentile(all, 99), 2)} ms; p99 per turn ${runs.map((ms) => round(percentile(ms, 99), 1)).join(" / ")}`,
    );
  }
} finally {
  setWorkerThreads("self");
  await queue.close();
  connection.disconnect();
  await worker.stop();
  for (const api of apis) await api.process.stop();
  await db.close();
}
process.exit(0);
