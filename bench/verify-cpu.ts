/**
 * Where `verify`'s CPU goes, by process and thread: runs `verifyOrganisationLog` over the bench's
 * 1,000,000-entry organisation (`pnpm bench --phases log` seeds it) a few times and prints, for
 * each run, the wall time and the CPU per entry of this process's main thread, of the threads
 * started during the run (the hashing threads), of the other threads (V8's GC and compiler
 * helpers), of the PostgreSQL backends serving the bench database, and of other work on the
 * machine. A poller in a child process samples /proc every 50 ms, so threads and backends that
 * end with the run are counted up to their last sample (at most 50 ms short).
 * Before the runs it starts the two hashing threads alone a few times (`startLeafHasher`, one
 * one-line chunk hashed by each) and prints how long that took and the process's CPU for it.
 * `cd bench && BENCH_DATABASE_URL=… npx tsx verify-cpu.ts [runs]`; see BENCHMARKS.md (issue 14).
 * `VERIFY_WORKERS=N` sets the number of hashing threads (verify's own choice otherwise: two).
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { createInterface } from "node:readline";
import { verifyOrganisationLog } from "@auditlog/api/verify-log";
import { createDatabase } from "@auditlog/db";
import { startLeafHasher } from "../apps/api/src/transparency/leaf-hasher.ts";
import { benchDatabaseUrl, benchLogOrigin, benchSigner, findOrg } from "./lib/stack.ts";

const runs = Number(process.argv[2] ?? 3);
const workers = process.env.VERIFY_WORKERS;
const databaseName = new URL(benchDatabaseUrl).pathname.slice(1);

// The poller: cumulative CPU ticks of every task of `pid` and of every backend of the database,
// the last value seen of each, plus the machine's busy ticks; printed as JSON on each "snap".
const poller = `
const fs = require("node:fs");
const [pid, db] = process.argv.slice(1);
const tasks = new Map(), backends = new Map(), known = new Map();
const ticks = (stat) => { const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); return Number(f[11]) + Number(f[12]); };
function sample() {
  for (const t of fs.readdirSync("/proc/" + pid + "/task")) {
    try { tasks.set(t, ticks(fs.readFileSync("/proc/" + pid + "/task/" + t + "/stat", "utf8"))); } catch {}
  }
  for (const p of fs.readdirSync("/proc")) {
    if (p.charCodeAt(0) > 57) continue;
    let ours = known.get(p);
    if (ours === undefined) {
      // A backend just forked still shows the postmaster's command line: asked again next time.
      let line = "";
      try { line = fs.readFileSync("/proc/" + p + "/cmdline", "utf8").replace(/\\0/g, " "); } catch {}
      ours = line.startsWith("postgres:") && line.includes(" " + db + " ");
      if (ours || !line.includes("postgres")) known.set(p, ours);
    }
    if (ours) { try { backends.set(p, ticks(fs.readFileSync("/proc/" + p + "/stat", "utf8"))); } catch {} }
  }
}
const busy = () => { const f = fs.readFileSync("/proc/stat", "utf8").split("\\n")[0].trim().split(/\\s+/).map(Number); return f[1] + f[2] + f[3] + f[6] + f[7] + f[8]; };
setInterval(sample, 50);
require("node:readline").createInterface({ input: process.stdin }).on("line", () => {
  sample();
  process.stdout.write(JSON.stringify({ tasks: [...tasks], backends: [...backends], busy: busy(), self: ticks(fs.readFileSync("/proc/self/stat", "utf8")) }) + "\\n");
});
`;

interface Snap {
  tasks: [string, number][];
  backends: [string, number][];
  busy: number;
  self: number;
}

const child = spawn(process.execPath, ["-e", poller, String(process.pid), databaseName], {
  stdio: ["pipe", "pipe", "inherit"],
});
const answers = createInterface({ input: child.stdout as NodeJS.ReadableStream });
const waiting: ((snap: Snap) => void)[] = [];
answers.on("line", (line) => waiting.shift()?.(JSON.parse(line) as Snap));
const snap = () =>
  new Promise<Snap>((resolve) => {
    waiting.push(resolve);
    child.stdin?.write("snap\n");
  });

const db = createDatabase({ url: benchDatabaseUrl, poolSize: 4 });
const org = await findOrg(db, "bench-log-1m");
if (!org) throw new Error("no bench-log-1m: run `pnpm bench --phases log` once first");
const signer = await benchSigner();
const tickMicros = 1e6 / 100;
// The threads' start alone: wall time until both have answered, and the CPU of this process
// (every thread of it) meanwhile.
for (let start = 0; start < 3; start++) {
  const cpu = process.cpuUsage();
  const began = performance.now();
  const hasher = await startLeafHasher(org.id, 2);
  const line = Buffer.from("1\tx\n");
  await Promise.all([hasher.hash(line), hasher.hash(line)]);
  const ms = performance.now() - began;
  const used = process.cpuUsage(cpu);
  await hasher.close();
  process.stdout.write(
    `${JSON.stringify({ threadStart: start, ms: Math.round(ms), cpuMs: Math.round((used.user + used.system) / 1000) })}\n`,
  );
}
const rows: Record<string, string | number>[] = [];
for (let run = 0; run <= runs; run++) {
  const before = await snap();
  const started = performance.now();
  const result = await verifyOrganisationLog({
    db,
    orgId: org.id,
    verifiers: [signer.verifierKey],
    logOrigin: benchLogOrigin,
    workers: workers === undefined ? undefined : Number(workers),
  });
  const seconds = (performance.now() - started) / 1000;
  const after = await snap();
  if (!result.ok) throw new Error(`did not verify: ${JSON.stringify(result)}`);
  const entries = result.treeSize;
  const per = (ticks: number) => Math.round(((ticks * tickMicros) / entries) * 100) / 100;
  const old = new Map(before.tasks);
  let main = 0;
  let others = 0;
  const detail: string[] = [];
  const started_: number[] = [];
  for (const [tid, ticks] of after.tasks) {
    if (tid === String(process.pid)) main = ticks - (old.get(tid) ?? 0);
    else if (old.has(tid)) {
      const delta = ticks - (old.get(tid) ?? 0);
      others += delta;
      if (per(delta) >= 0.05) detail.push(`${Number(tid) - process.pid}:${per(delta)}`);
    } else started_.push(ticks);
  }
  started_.sort((a, b) => b - a);
  const oldBackends = new Map(before.backends);
  let postgres = 0;
  for (const [pid, ticks] of after.backends) postgres += ticks - (oldBackends.get(pid) ?? 0);
  const ours =
    after.tasks.reduce((s, [, t]) => s + t, 0) - before.tasks.reduce((s, [, t]) => s + t, 0);
  const other = after.busy - before.busy - ours - postgres - (after.self - before.self);
  const row = {
    run: run === 0 ? "warm-up" : run,
    seconds: Math.round(seconds * 100) / 100,
    entriesPerSecond: Math.round(entries / seconds),
    postgres: per(postgres),
    main: per(main),
    hashingThreads: started_
      .slice(0, Number(workers ?? 2))
      .map(per)
      .join(" + "),
    threadsStarted: per(started_.reduce((s, t) => s + t, 0)),
    otherThreads: per(others),
    otherThreadsByTid: detail.join(" "),
    all: per(postgres + ours),
    otherWorkCores: Math.round((other / 100 / seconds) * 100) / 100,
  };
  rows.push(row);
  process.stdout.write(`${JSON.stringify(row)}\n`);
}
await db.close();
child.kill();
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
process.stdout.write(`load average ${load}\n`);
