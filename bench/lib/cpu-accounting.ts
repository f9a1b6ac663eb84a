import { createHash } from "node:crypto";
import { readdirSync, readFileSync } from "node:fs";
import os from "node:os";

/*
 * How much of the machine other work used while the bench ran: the CPU time of every process
 * (from /proc/stat) minus that of the bench's own processes (this process, its descendants: API,
 * workers, autocannon; and the PostgreSQL backends serving the bench database), sampled every
 * second so that processes which exit in between are still counted up to their last sample.
 */

const ticksPerSecond = 100;

function totalBusySeconds(): number {
  const line = readFileSync("/proc/stat", "utf8").split("\n")[0] ?? "";
  const [, user, nice, system, , , irq, softirq, steal] = line.trim().split(/\s+/).map(Number);
  return (
    ((user ?? 0) + (nice ?? 0) + (system ?? 0) + (irq ?? 0) + (softirq ?? 0) + (steal ?? 0)) /
    ticksPerSecond
  );
}

interface ProcInfo {
  ppid: number;
  cpuSeconds: number;
  cmdline: string;
}

/**
 * Each process's command line as first read, by pid and start time (a reused pid starts later).
 * The meters read every process twice a second while they measure, in the bench's own process,
 * which counts as the load generator's CPU: reading each command line once halves those reads.
 * A PostgreSQL backend just forked still shows the postmaster's command line (its database
 * comes with its title, which the meters match on): such a line is read again each time.
 */
const cmdlines = new Map<number, { startTicks: string; cmdline: string }>();
const postmasterLine = /\/postgres\s/;

export function readProcesses(): Map<number, ProcInfo> {
  const processes = new Map<number, ProcInfo>();
  const live = new Set<number>();
  for (const entry of readdirSync("/proc")) {
    const first = entry.charCodeAt(0);
    if (first < 48 || first > 57) continue;
    const pid = Number(entry);
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      const cpu = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      const startTicks = fields[19] as string;
      const known = cmdlines.get(pid);
      let cmdline = known?.startTicks === startTicks ? known.cmdline : undefined;
      if (cmdline === undefined) {
        cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
        if (!postmasterLine.test(cmdline)) cmdlines.set(pid, { startTicks, cmdline });
      }
      live.add(pid);
      processes.set(pid, { ppid, cpuSeconds: cpu, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  for (const pid of cmdlines.keys()) if (!live.has(pid)) cmdlines.delete(pid);
  return processes;
}

/** Microseconds so far in which some task waited on I/O (Linux PSI), or null without PSI. */
function ioStallMicros(): number | null {
  try {
    const line = readFileSync("/proc/pressure/io", "utf8").split("\n")[0] ?? "";
    const total = /total=(\d+)/.exec(line)?.[1];
    return total === undefined ? null : Number(total);
  } catch {
    return null;
  }
}

/** The running `startCpuAccounting` meters, which `withoutSampling` holds still. */
const activeMeters = new Set<{ pause(): void; resume(): void }>();

/**
 * Runs a latency measurement with the meters' once-a-second /proc sampling held: one sample
 * reads every process's /proc entry synchronously (6.6 ms at best, 75 ms median, 123 ms at
 * worst on a loaded machine), in the process that also sends the paced requests and times their
 * answers, so about one request a second was timed late by that much. A sample is taken before and after,
 * and no bench process exits in between, so the accounting loses nothing.
 */
export async function withoutSampling<T>(run: () => Promise<T>): Promise<T> {
  for (const meter of activeMeters) meter.pause();
  try {
    return await run();
  } finally {
    for (const meter of activeMeters) meter.resume();
  }
}

export function startCpuAccounting(databaseName: string) {
  const benchCpu = new Map<number, { first: number; last: number }>();
  let firstSample = true;
  const take = () => {
    const processes = readProcesses();
    const ours = new Set<number>([process.pid]);
    let grew = true;
    while (grew) {
      grew = false;
      for (const [pid, info] of processes) {
        if (!ours.has(pid) && ours.has(info.ppid)) {
          ours.add(pid);
          grew = true;
        }
      }
    }
    for (const [pid, info] of processes) {
      if (info.cmdline.startsWith("postgres:") && info.cmdline.includes(` ${databaseName} `)) {
        ours.add(pid);
      }
    }
    for (const pid of ours) {
      const info = processes.get(pid);
      if (!info) continue;
      const seen = benchCpu.get(pid);
      // A process first seen after the first sample started meanwhile: count its CPU from 0.
      if (seen) seen.last = info.cpuSeconds;
      else benchCpu.set(pid, { first: firstSample ? info.cpuSeconds : 0, last: info.cpuSeconds });
    }
    firstSample = false;
  };
  const startedAt = Date.now();
  const busyAtStart = totalBusySeconds();
  const ioStallAtStart = ioStallMicros();
  take();
  let timer = setInterval(take, 1000);
  timer.unref();
  const pausable = {
    pause() {
      take();
      clearInterval(timer);
    },
    resume() {
      take();
      clearInterval(timer);
      timer = setInterval(take, 1000);
      timer.unref();
    },
  };
  activeMeters.add(pausable);
  return {
    /** Average cores used by other work since the start, and by the bench itself. */
    read() {
      take();
      const wall = (Date.now() - startedAt) / 1000;
      const busy = totalBusySeconds() - busyAtStart;
      let bench = 0;
      for (const { first, last } of benchCpu.values()) bench += last - first;
      const ioStall = ioStallMicros();
      return {
        seconds: Math.round(wall),
        /**
         * Share of the time some task waited on the disk: exports and counts read from it when
         * their data is not in the page cache, and this machine's disk is shared.
         */
        ioStallPercent:
          ioStall === null || ioStallAtStart === null
            ? null
            : Math.round((ioStall - ioStallAtStart) / (wall * 1e4)),
        cores: os.cpus().length,
        benchCores: Math.round((bench / wall) * 100) / 100,
        otherCores: Math.max(0, Math.round(((busy - bench) / wall) * 100) / 100),
      };
    },
    stop() {
      activeMeters.delete(pausable);
      clearInterval(timer);
    },
  };
}

/**
 * CPU seconds used by groups of processes: each group is a set of pids or a test on the command
 * line (PostgreSQL's processes, Redis). Sampled every 500 ms, so a process that exits in between
 * (a pool's backend) still counts up to its last sample. Two readings give where a window's CPU
 * went.
 */
export function startGroupCpu(groups: Record<string, number[] | ((cmdline: string) => boolean)>) {
  const used = new Map<string, Map<number, { first: number; last: number }>>(
    Object.keys(groups).map((name) => [name, new Map()]),
  );
  let firstSample = true;
  const take = () => {
    for (const [pid, info] of readProcesses()) {
      for (const [name, match] of Object.entries(groups)) {
        if (!(Array.isArray(match) ? match.includes(pid) : match(info.cmdline))) continue;
        const pids = used.get(name) as Map<number, { first: number; last: number }>;
        const seen = pids.get(pid);
        if (seen) seen.last = info.cpuSeconds;
        else pids.set(pid, { first: firstSample ? info.cpuSeconds : 0, last: info.cpuSeconds });
      }
    }
    firstSample = false;
  };
  take();
  const timer = setInterval(take, 500);
  timer.unref();
  return {
    /** CPU seconds of each group since the start. */
    read(): Record<string, number> {
      take();
      const seconds: Record<string, number> = {};
      for (const [name, pids] of used) {
        let sum = 0;
        for (const { first, last } of pids.values()) sum += last - first;
        seconds[name] = sum;
      }
      return seconds;
    },
    stop() {
      clearInterval(timer);
    },
  };
}

/** Microseconds of CPU per item for each group between two `cpuByGroup` snapshots. */
export function cpuPerItem(
  before: Record<string, number>,
  after: Record<string, number>,
  items: number,
): Record<string, number> {
  const perItem: Record<string, number> = {};
  let total = 0;
  for (const [name, end] of Object.entries(after)) {
    const micros = ((end - (before[name] ?? 0)) / items) * 1e6;
    perItem[name] = Math.round(micros * 10) / 10;
    total += micros;
  }
  perItem.total = Math.round(total * 10) / 10;
  return perItem;
}

/** Every PostgreSQL server process (backends of any database, WAL writer, checkpointer …). */
export const isPostgresProcess = (cmdline: string) =>
  cmdline.startsWith("postgres:") || /\/postgres\s/.test(cmdline);
export const isRedisProcess = (cmdline: string) => cmdline.startsWith("redis-server");

const referenceDocument = JSON.stringify(
  Array.from({ length: 2000 }, (_, i) => ({ id: `evt_${i}`, n: i * 1.5, tags: ["a", "b"] })),
);

/**
 * Milliseconds this process takes for a fixed single-threaded workload (JSON and SHA-256 over a
 * fixed document): how fast a core of this shared machine is at that moment. It moved by up to
 * 1.7× within an hour here, so each phase records it beside its figures.
 */
export function cpuReferenceMs(): number {
  const started = performance.now();
  for (let i = 0; i < 40; i++) {
    createHash("sha256")
      .update(JSON.stringify(JSON.parse(referenceDocument)))
      .digest();
  }
  return Math.round((performance.now() - started) * 10) / 10;
}
