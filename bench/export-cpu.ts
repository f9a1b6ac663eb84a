/**
 * Where a background export's CPU goes, PostgreSQL's lines against this process's (issue 21
 * part 4): writes one organisation's export file with `writeExportFile` (the worker's code: COPY,
 * lines, gzip, a local file), alternately with the lines rendered by PostgreSQL and by this
 * process, and prints for each run the CPU per entry of this process (every thread: gzip runs on
 * libuv's pool) and of the PostgreSQL backends serving the bench database, the file's SHA-256
 * (the two renderers must write the same bytes), and the growth of this process's peak RSS. A
 * poller in a child process samples /proc every 50 ms. Run the quick bench's export phase once
 * first (it seeds `bench-quick-huge`, 150,000 entries).
 * `cd bench && BENCH_DATABASE_URL=… npx tsx export-cpu.ts [org-slug] [ndjson|json] [pairs]`.
 */
import { spawn } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import path from "node:path";
import { createInterface } from "node:readline";
import { createDatabase } from "@auditlog/db";
import { parseQuery } from "@auditlog/events";
import { createExportStorage, writeExportFile } from "@auditlog/exports";
import { benchDatabaseUrl, findOrg } from "./lib/stack.ts";

const slug = process.argv[2] ?? "bench-quick-huge";
const format = (process.argv[3] ?? "ndjson") as "ndjson" | "json";
const pairs = Number(process.argv[4] ?? 2);
/** Which renderers to alternate (`writeExportFile`'s `renderer`): `node` alone for pairs of branches. */
const renderers = (process.argv[5] ?? "postgres,node").split(",") as ("postgres" | "node")[];
const databaseName = new URL(benchDatabaseUrl).pathname.slice(1);

// Cumulative CPU ticks of every backend of the database (the last value seen of each, so one
// that ends is still counted), and the machine's busy ticks; printed as JSON on each "snap".
const poller = `
const fs = require("node:fs");
const [db] = process.argv.slice(1);
const backends = new Map(), known = new Map();
const ticks = (stat) => { const f = stat.slice(stat.lastIndexOf(")") + 2).split(" "); return Number(f[11]) + Number(f[12]); };
function sample() {
  for (const p of fs.readdirSync("/proc")) {
    if (p.charCodeAt(0) > 57) continue;
    let ours = known.get(p);
    if (ours === undefined) {
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
  process.stdout.write(JSON.stringify({ backends: [...backends], busy: busy() }) + "\\n");
});
`;
interface Snap {
  backends: [string, number][];
  busy: number;
}
const child = spawn(process.execPath, ["-e", poller, databaseName], {
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

const db = createDatabase({ url: benchDatabaseUrl, poolSize: 2 });
const org = await findOrg(db, slug);
if (!org) throw new Error(`no ${slug}: run the quick bench's export phase once first`);
const query = parseQuery("");
if (!query.ok) throw new Error("empty query");
const dir = mkdtempSync(path.join(tmpdir(), "export-cpu-"));
const storage = createExportStorage({ kind: "local", dir });
const tickMicros = 1e6 / 100;
/** This process's main thread's CPU ticks: the rest of `process.cpuUsage` is gzip's pool and V8's helpers. */
const mainTicks = () => {
  const stat = readFileSync(`/proc/self/task/${process.pid}/stat`, "utf8");
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  return Number(f[11]) + Number(f[12]);
};
/** CPU ticks of each of this process's threads, by id and name (gzip runs on libuv's pool). */
const threadTicks = () => {
  const ticks = new Map<string, { name: string; ticks: number }>();
  for (const task of readdirSync(`/proc/${process.pid}/task`)) {
    try {
      const stat = readFileSync(`/proc/${process.pid}/task/${task}/stat`, "utf8");
      const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const name = stat.slice(stat.indexOf("(") + 1, stat.lastIndexOf(")"));
      ticks.set(task, { name, ticks: Number(f[11]) + Number(f[12]) });
    } catch {}
  }
  return ticks;
};
const load = () => readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
let peakRssMb = process.memoryUsage().rss / 2 ** 20;
const rssTimer = setInterval(() => {
  peakRssMb = Math.max(peakRssMb, process.memoryUsage().rss / 2 ** 20);
}, 20);
const digests = new Map<string, string>();
try {
  // A warm-up of each, then the pairs.
  for (let run = 0; run <= pairs; run++) {
    for (const renderer of renderers) {
      const rssBefore = peakRssMb;
      const before = await snap();
      const cpuBefore = process.cpuUsage();
      const mainBefore = mainTicks();
      const threadsBefore = threadTicks();
      const started = performance.now();
      const file = await writeExportFile(
        {
          orgId: org.id,
          query: query.query,
          options: { includeHidden: true },
          format,
        },
        {
          db,
          storage,
          key: `${renderer}-${run}.${format}.gz`,
          onProgress: async () => {},
          shouldStop: () => null,
          renderer,
        },
      );
      const seconds = (performance.now() - started) / 1000;
      const cpu = process.cpuUsage(cpuBefore);
      const main = (mainTicks() - mainBefore) * tickMicros;
      // The busiest threads but the main one: "node" is a worker_thread, "libuv-worker" gzip.
      const threads: string[] = [];
      for (const [task, { name, ticks }] of threadTicks()) {
        const spent = ticks - (threadsBefore.get(task)?.ticks ?? 0);
        if (task !== String(process.pid) && spent > 0) threads.push(`${name}:${spent}`);
      }
      const after = await snap();
      const oldBackends = new Map(before.backends);
      let postgres = 0;
      for (const [pid, ticks] of after.backends) postgres += ticks - (oldBackends.get(pid) ?? 0);
      const entries = file.rowsWritten;
      const per = (micros: number) => Math.round((micros / entries) * 100) / 100;
      const self = cpu.user + cpu.system;
      const other = (after.busy - before.busy) * tickMicros - self - postgres * tickMicros;
      digests.set(renderer, file.sha256);
      process.stdout.write(
        `${JSON.stringify({
          run: run === 0 ? "warm-up" : run,
          renderer,
          format,
          entries,
          fileMb: Math.round(file.fileSize / 2 ** 16) / 16,
          seconds: Math.round(seconds * 100) / 100,
          entriesPerSecond: Math.round(entries / seconds),
          postgresUs: per(postgres * tickMicros),
          exporterUs: per(self),
          mainThreadUs: per(main),
          otherThreadsUs: threads
            .map((t) => t.split(":"))
            .filter(([, spent]) => Number(spent) * tickMicros >= entries * 0.2)
            .map(([name, spent]) => `${name} ${per(Number(spent) * tickMicros)}`)
            .join(", "),
          allUs: per(postgres * tickMicros + self),
          peakRssMb: Math.round(peakRssMb),
          peakRssGrowthMb: Math.round(peakRssMb - rssBefore),
          otherWorkCores: Math.round((other / 1e6 / seconds) * 100) / 100,
          sha256: file.sha256.slice(0, 16),
          load: load(),
        })}\n`,
      );
      await storage.delete(`${renderer}-${run}.${format}.gz`);
    }
    if (new Set(digests.values()).size !== 1) {
      throw new Error("the two renderers wrote different files");
    }
  }
} finally {
  clearInterval(rssTimer);
  rmSync(dir, { recursive: true, force: true });
  await db.close();
  child.kill();
}
