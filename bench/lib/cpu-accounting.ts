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

function readProcesses(): Map<number, ProcInfo> {
  const processes = new Map<number, ProcInfo>();
  for (const entry of readdirSync("/proc")) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, "utf8");
      const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      const ppid = Number(fields[1]);
      const cpu = (Number(fields[11]) + Number(fields[12])) / ticksPerSecond;
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, "utf8").replace(/\0/g, " ");
      processes.set(Number(entry), { ppid, cpuSeconds: cpu, cmdline });
    } catch {
      // gone meanwhile
    }
  }
  return processes;
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
  take();
  const timer = setInterval(take, 1000);
  timer.unref();
  return {
    /** Average cores used by other work since the start, and by the bench itself. */
    read() {
      take();
      const wall = (Date.now() - startedAt) / 1000;
      const busy = totalBusySeconds() - busyAtStart;
      let bench = 0;
      for (const { first, last } of benchCpu.values()) bench += last - first;
      return {
        seconds: Math.round(wall),
        cores: os.cpus().length,
        benchCores: Math.round((bench / wall) * 100) / 100,
        otherCores: Math.max(0, Math.round(((busy - bench) / wall) * 100) / 100),
      };
    },
    stop() {
      clearInterval(timer);
    },
  };
}
