import { rmSync } from "node:fs";
import { createDatabase } from "@auditlog/db";
import { exportWorkerNodeOptions } from "@auditlog/worker";
import { Queue } from "bullmq";
import { Redis } from "ioredis";
import { cpuPerItem, isPostgresProcess, startGroupCpu } from "./cpu-accounting.ts";
import type { SeededOrg } from "./seed.ts";
import {
  benchDatabaseUrl,
  cpuProfileArgs,
  createAdminToken,
  idleRss,
  redisUrl,
  type StackQueues,
  startWorker,
} from "./stack.ts";
import {
  formatCount,
  httpRequest,
  log,
  readProcessMemory,
  resetPeakRss,
  round,
  sampleRss,
  sleep,
} from "./util.ts";

export interface ExportCaseResult {
  org: string;
  entries: number;
  format: string;
  status: string;
  rowsWritten: number;
  fileSize: number | null;
  /** Worker-side: rowsWritten / (finishedAt − startedAt). */
  entriesPerSecond: number;
  /** From the request to the first poll that saw it ready. */
  wallSeconds: number;
  idleRssMb: number;
  /** The worker's VmHWM when the export was requested: start-up's peak, not the export's. */
  startupHwmMb: number | null;
  peakRssMb: number;
  /** When the sampled peak was seen, in seconds from the request. */
  peakAtSeconds: number;
  /** VmHWM during the export (reset when it was requested), or the process's whole life if the reset was refused. */
  hwmMb: number;
  hwmResetBeforeExport: boolean;
  /** The CPU profiler ran in the worker: its sample buffers are part of the RSS. */
  profiled: boolean;
  /**
   * CPU µs per exported entry from the request to ready: PostgreSQL's (the bench database's
   * backends; it sends each entry's columns) and the export worker's (the lines, gzip, the file). The two
   * run at once on the two cores, so the larger one bounds the throughput.
   */
  cpuPerEntry: Record<string, number>;
  rssTimeline: { t: number; rssMb: number; anonMb: number }[];
  error?: string;
}

export interface ExportResult {
  ran: boolean;
  reason?: string;
  /**
   * Idle RSS of a started worker with every role, with the geolocation databases and without;
   * each case's `idleRssMb` is that of its export-only worker.
   */
  idleRssWithGeoMb: number;
  idleRssWithoutGeoMb: number;
  cases: ExportCaseResult[];
}

interface ExportView {
  id: string;
  status: string;
  rowsWritten: number;
  fileSize: number | null;
  error: string | null;
  startedAt: string | null;
  finishedAt: string | null;
}

/** An export whose row count and status do not move for this long is recorded as stalled. */
const stallSeconds = 120;

const databaseName = new URL(benchDatabaseUrl).pathname.slice(1);

function readExport(body: string): ExportView {
  const value = JSON.parse(body) as ExportView | { export: ExportView };
  return "export" in value ? value.export : value;
}

/**
 * Background exports through the API (`POST /v1/orgs/:org/exports {format}`, polled until
 * ready), each built by a worker process started just for it, whose RSS is sampled from /proc.
 */
export async function runExports(
  port: number,
  queues: StackQueues,
  datasets: { org: SeededOrg; formats: string[] }[],
  concurrency: number,
  profile = false,
): Promise<ExportResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 1 });
  const base = `http://127.0.0.1:${port}/v1/orgs`;
  const cases: ExportCaseResult[] = [];
  const connection = new Redis(redisUrl, { maxRetriesPerRequest: null });
  const exportQueue = new Queue(queues.export, { connection });
  try {
    // A worker with every role (ingestion loads the geolocation databases), the same with
    // geolocation off, and (below) the export-only workers that build the exports.
    const allRoles = await startWorker("worker-all-roles", queues, { concurrency });
    const idleRssWithGeoMb = round(await idleRss(allRoles.pid));
    await allRoles.stop();
    const noGeo = await startWorker("worker-nogeo", queues, {
      concurrency,
      env: { GEOIP_IPV4_DATABASE: "", GEOIP_IPV6_DATABASE: "" },
    });
    const idleRssWithoutGeoMb = round(await idleRss(noGeo.pid));
    await noGeo.stop();

    const tokens = new Map<string, string>();
    for (const { org, formats } of datasets) {
      for (const format of formats) {
        let token = tokens.get(org.slug);
        if (!token) {
          token = await createAdminToken(db, org.slug);
          tokens.set(org.slug, token);
        }
        const headers = { authorization: `Bearer ${token}`, "content-type": "application/json" };
        const worker = await startWorker(`worker-export-${format}-${org.entries}`, queues, {
          concurrency,
          // A dedicated export worker, as deployed for exports (README): no ingestion, no
          // geolocation, and the Node options the worker recommends for it.
          roles: ["exports"],
          env: { NODE_OPTIONS: exportWorkerNodeOptions },
          nodeArgs: profile ? cpuProfileArgs(`export-worker-${format}-${org.entries}`) : [],
        });
        try {
          const idleRssMb = round(await idleRss(worker.pid));
          log(
            `export: ${format} of ${org.slug} (${formatCount(org.entries)} entries), worker idle RSS ${idleRssMb} MB`,
          );
          // VmHWM otherwise keeps start-up's peak (tsx compiling every module), which can be
          // above anything the export itself reaches.
          const startupHwmMb = readProcessMemory(worker.pid)?.hwmMb ?? null;
          const hwmResetBeforeExport = resetPeakRss(worker.pid);
          const sampler = sampleRss(worker.pid, 100);
          // Only the bench database's backends: the machine's PostgreSQL serves other work too.
          const cpu = startGroupCpu({
            postgres: (cmdline) =>
              isPostgresProcess(cmdline) && cmdline.includes(` ${databaseName} `),
            worker: [worker.pid],
          });
          const cpuBefore = cpu.read();
          const requested = Date.now();
          const created = await httpRequest(`${base}/${org.slug}/exports`, {
            method: "POST",
            headers,
            body: JSON.stringify({ format }),
          });
          if (created.status === 404 && cases.length === 0) {
            sampler.stop();
            cpu.stop();
            return {
              ran: false,
              reason: `POST /v1/orgs/:org/exports answered 404 (${created.body.slice(0, 200)}): the export route is not there yet`,
              idleRssWithGeoMb,
              idleRssWithoutGeoMb,
              cases,
            };
          }
          if (created.status >= 300) {
            throw new Error(`POST exports: ${created.status} ${created.body.slice(0, 500)}`);
          }
          const id = readExport(created.body).id;
          let view = readExport(created.body);
          let lastLogged = 0;
          let lastChange = Date.now();
          while (!["ready", "failed", "expired"].includes(view.status)) {
            await sleep(250);
            const answer = await httpRequest(`${base}/${org.slug}/exports/${id}`, { headers });
            if (answer.status !== 200) {
              throw new Error(`GET export: ${answer.status} ${answer.body}`);
            }
            const previous = view;
            view = readExport(answer.body);
            if (view.status !== previous.status || view.rowsWritten !== previous.rowsWritten) {
              lastChange = Date.now();
            }
            if (Date.now() - lastLogged > 5000) {
              lastLogged = Date.now();
              log(`  … ${view.status}, ${formatCount(view.rowsWritten)} rows written`);
            }
            if (Date.now() - lastChange > stallSeconds * 1000) {
              log(`export: no progress for ${stallSeconds}s; recording it as stalled`);
              view = { ...view, status: "stalled" };
              break;
            }
          }
          const wallSeconds = (Date.now() - requested) / 1000;
          const memory = sampler.stop();
          const cpuAfter = cpu.read();
          cpu.stop();
          const buildSeconds =
            view.startedAt && view.finishedAt
              ? (Date.parse(view.finishedAt) - Date.parse(view.startedAt)) / 1000
              : wallSeconds;
          cases.push({
            org: org.slug,
            entries: org.entries,
            format,
            status: view.status,
            rowsWritten: view.rowsWritten,
            fileSize: view.fileSize,
            entriesPerSecond: Math.round(view.rowsWritten / buildSeconds),
            wallSeconds: round(wallSeconds, 2),
            idleRssMb,
            startupHwmMb: startupHwmMb === null ? null : round(startupHwmMb),
            peakRssMb: round(memory.maxRssMb),
            peakAtSeconds: memory.maxAtSeconds,
            hwmMb: round(memory.hwmMb),
            hwmResetBeforeExport,
            profiled: profile,
            cpuPerEntry: cpuPerItem(cpuBefore, cpuAfter, Math.max(1, view.rowsWritten)),
            rssTimeline: memory.timeline.filter((_, i) => i % 10 === 0),
            ...(view.error ? { error: view.error } : {}),
          });
          log(
            `export: ${view.status}: ${formatCount(view.rowsWritten)} rows, ${formatCount(view.rowsWritten / buildSeconds)}/s, peak RSS ${round(memory.hwmMb)} MB`,
          );
        } finally {
          await worker.stop();
          // Nothing of this case may reach the next one: no job left behind, no file kept.
          await exportQueue.obliterate({ force: true }).catch(() => {});
          rmSync(queues.exportDir, { recursive: true, force: true });
        }
      }
    }
    return { ran: true, idleRssWithGeoMb, idleRssWithoutGeoMb, cases };
  } finally {
    // Exports record `org.audit_log.export` entries in the seeded organisations. The log is
    // append-only (issue 14), so they stay, after the seeded `seq`s; seeding counts only those.
    await exportQueue.close();
    connection.disconnect();
    await db.close();
  }
}
