/**
 * The API alone on the ingest path, as a process: CPU per accepted event and paced latency, with
 * a no-op drainer emptying the queue in another process (no worker, no PostgreSQL writes), so
 * that two versions of the API can be compared back to back on a busy machine in a minute each.
 * CPU comes from /proc (every thread of the API process), which other load inflates far less
 * than wall-clock time. See BENCHMARKS.md (issue 21, the API's remaining CPU and tail).
 *
 * `BENCH_DATABASE_URL=… npx tsx ingest-api-load.ts [--requests 2000] [--concurrency 8] [--batch 100]
 *  [--rate 55] [--seconds 10] [--profile] [--node-args=--max-semi-space-size=32]`
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import http from "node:http";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { createDatabase, createOrganization } from "@auditlog/db";
import { readProcesses } from "./lib/cpu-accounting.ts";
import { prepareBodies } from "./lib/ingest.ts";
import {
  benchDatabaseUrl,
  benchMetricsToken,
  benchSigner,
  cpuProfileArgs,
  createIngestKey,
  freePort,
  redisUrl,
  runId,
  stackQueues,
  startApi,
} from "./lib/stack.ts";
import {
  httpRequest,
  log,
  pacedLoad,
  percentile,
  readProcessMemory,
  round,
  sleep,
} from "./lib/util.ts";

const { values } = parseArgs({
  options: {
    requests: { type: "string", default: "2000" },
    concurrency: { type: "string", default: "8" },
    rate: { type: "string", default: "55" },
    seconds: { type: "string", default: "10" },
    profile: { type: "boolean", default: false },
    /** Events per request: runs at two sizes split the API's CPU into per request and per event. */
    batch: { type: "string", default: "100" },
    /** Extra node flags for the API, e.g. `--node-args=--max-semi-space-size=32`. */
    "node-args": { type: "string", default: "" },
    /**
     * Read every process's /proc entry once a second during the paced load, as the bench's CPU
     * accounting does in the process that also runs its paced load.
     */
    "proc-sampler": { type: "boolean", default: false },
  },
});

/** CPU seconds of a process so far, every thread: user and kernel (/proc/<pid>/stat). */
function cpuSeconds(pid: number): { user: number; system: number } {
  const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return { user: Number(fields[11]) / 100, system: Number(fields[12]) / 100 };
}

// The API refuses to start without the bench's checkpoint key file: (re)write it, as a bench run does.
await benchSigner();
const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
const slug = `bench-apiload-${runId}`;
await createOrganization(db, { slug, name: slug, plan: "enterprise" });
const key = await createIngestKey(db, slug);
const queues = stackQueues("apiload");
const port = await freePort();
const api = await startApi(port, queues, [
  ...(values.profile ? cpuProfileArgs("apiload-api") : []),
  ...values["node-args"].split(" ").filter(Boolean),
]);
const here = path.dirname(fileURLToPath(import.meta.url));
const drainer = spawn(
  process.execPath,
  ["--import", "tsx", path.join(here, "lib/bullmq-drain-worker.ts")],
  {
    env: {
      ...process.env,
      BENCH_QUEUE: queues.ingest,
      BENCH_JOBS: "1000000000",
      BENCH_CONCURRENCY: "16",
      BENCH_REDIS_URL: redisUrl,
    },
    stdio: "ignore",
  },
);

const batchSize = Number(values.batch);
const bodies = prepareBodies(200, batchSize);
const url = `http://127.0.0.1:${port}/v1/events`;
const headers = { authorization: `Bearer ${key}`, "content-type": "application/json" };
const agent = new http.Agent({ keepAlive: true, maxSockets: 64 });

function post(body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { method: "POST", headers, agent }, (response) => {
      response.resume();
      response.on("end", () => resolve(response.statusCode ?? 0));
    });
    request.on("error", reject);
    request.end(body);
  });
}

async function closedLoop(requests: number, concurrency: number) {
  let next = 0;
  let refused = 0;
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < requests) {
        const status = await post(bodies[next++ % bodies.length] as string);
        if (status !== 202) refused++;
      }
    }),
  );
  return refused;
}

/**
 * The API's own view of a stretch of time, from prom-client's default metrics: garbage collection
 * by kind (count, seconds, and how many took 10 ms or more) and the event loop's delay (reset at
 * each scrape, so the second of two scrapes covers the time between them).
 */
async function scrapeRuntime() {
  const answer = await httpRequest(`http://127.0.0.1:${port}/metrics`, {
    headers: { authorization: `Bearer ${benchMetricsToken}` },
  });
  const text = String(answer.body);
  const value = (pattern: RegExp) => Number(pattern.exec(text)?.[1] ?? Number.NaN);
  const gc: Record<string, { count: number; seconds: number; over10ms: number }> = {};
  for (const kind of ["minor", "major", "incremental", "weakcb"]) {
    const count = value(
      new RegExp(`nodejs_gc_duration_seconds_count\\{(?=[^}]*kind="${kind}")[^}]*\\} (\\S+)`),
    );
    const upTo10 = value(
      new RegExp(
        `nodejs_gc_duration_seconds_bucket\\{(?=[^}]*le="0.01")(?=[^}]*kind="${kind}")[^}]*\\} (\\S+)`,
      ),
    );
    gc[kind] = {
      count,
      seconds: value(
        new RegExp(`nodejs_gc_duration_seconds_sum\\{(?=[^}]*kind="${kind}")[^}]*\\} (\\S+)`),
      ),
      over10ms: count - upTo10,
    };
  }
  return {
    gc,
    lagP99Ms: value(/nodejs_eventloop_lag_p99_seconds\{[^}]*\} (\S+)/) * 1000,
    lagMaxMs: value(/nodejs_eventloop_lag_max_seconds\{[^}]*\} (\S+)/) * 1000,
  };
}

function gcDelta(
  before: Awaited<ReturnType<typeof scrapeRuntime>>,
  after: Awaited<ReturnType<typeof scrapeRuntime>>,
): string {
  return Object.entries(after.gc)
    .map(([kind, a]) => {
      const b = before.gc[kind] ?? { count: 0, seconds: 0, over10ms: 0 };
      return `${kind} ${a.count - b.count} (${round((a.seconds - b.seconds) * 1000, 0)} ms, ${a.over10ms - b.over10ms} ≥ 10 ms)`;
    })
    .join(", ");
}

try {
  log(`API ${api.pid} on ${port}; warm-up`);
  await closedLoop(300, 4);
  await sleep(500);
  const requests = Number(values.requests);
  const runtimeBefore = await scrapeRuntime();
  const cpuBefore = cpuSeconds(api.pid);
  const started = performance.now();
  const refused = await closedLoop(requests, Number(values.concurrency));
  const seconds = (performance.now() - started) / 1000;
  const cpuAfter = cpuSeconds(api.pid);
  const user = cpuAfter.user - cpuBefore.user;
  const system = cpuAfter.system - cpuBefore.system;
  const events = (requests - refused) * batchSize;
  log(
    `closed loop: ${requests} requests (${refused} refused), ${round(events / seconds, 0)} events/s; API CPU ${round(((user + system) * 1e6) / events, 2)} µs per accepted event (user ${round((user * 1e6) / events, 2)}, kernel ${round((system * 1e6) / events, 2)})`,
  );
  const memory = readProcessMemory(api.pid);
  log(
    `  during it, GC ${gcDelta(runtimeBefore, await scrapeRuntime())}; the API's RSS ${round(memory?.rssMb ?? Number.NaN, 0)} MB, peak ${round(memory?.hwmMb ?? Number.NaN, 0)} MB`,
  );
  await sleep(1000);
  const before = await scrapeRuntime();
  const sampler = values["proc-sampler"] ? setInterval(readProcesses, 1000) : undefined;
  const paced = await pacedLoad(
    url,
    { method: "POST", headers, bodies },
    Number(values.rate),
    Number(values.seconds),
  );
  clearInterval(sampler);
  const ms = paced.latencies;
  log(
    `paced ${values.rate} req/s for ${values.seconds} s: p50 ${round(percentile(ms, 50), 2)} ms, p90 ${round(percentile(ms, 90), 2)} ms, p99 ${round(percentile(ms, 99), 2)} ms, max ${round(Math.max(...ms), 1)} ms, errors ${paced.errors}`,
  );
  const after = await scrapeRuntime();
  log(
    `  during it, the API's event loop delay p99 ${round(after.lagP99Ms, 1)} ms, max ${round(after.lagMaxMs, 1)} ms; GC ${gcDelta(before, after)}`,
  );
} finally {
  agent.destroy();
  await api.stop();
  drainer.kill("SIGTERM");
  await db.close();
}
process.exit(0);
