import { readFileSync, writeFileSync } from "node:fs";
import http from "node:http";
import { performance } from "node:perf_hooks";

const started = performance.now();

/** Progress and phase messages go to stderr, so stdout carries only the result table. */
export function log(message: string): void {
  const seconds = ((performance.now() - started) / 1000).toFixed(1).padStart(6);
  process.stderr.write(`[bench ${seconds}s] ${message}\n`);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Nearest-rank percentile of unsorted samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[rank] as number;
}

export function round(value: number, digits = 1): number {
  const factor = 10 ** digits;
  return Math.round(value * factor) / factor;
}

export function formatCount(n: number): string {
  return Math.round(n).toLocaleString("en-US");
}

/** A tiny seeded PRNG (mulberry32), so every run builds the same data. */
export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Cumulative Zipf(s) weights over n ranks, for sampling rank r with probability ∝ 1/r^s. */
export function zipfSampler(n: number, s: number, random: () => number): () => number {
  const cumulative: number[] = [];
  let total = 0;
  for (let rank = 1; rank <= n; rank++) {
    total += 1 / rank ** s;
    cumulative.push(total);
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = n - 1;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if ((cumulative[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  };
}

const agent = new http.Agent({ keepAlive: true, maxSockets: 16 });

export interface HttpAnswer {
  status: number;
  body: string;
}

type RequestOptions = { method?: string; headers?: Record<string, string>; body?: string };

/**
 * One HTTP request on a keep-alive connection (loopback only). A GET whose reused socket the
 * server had just closed (its keep-alive timeout, while this loaded process had not yet seen the
 * close) is sent once more on a new connection: otherwise one stale socket ends a whole run.
 */
export async function httpRequest(url: string, options: RequestOptions = {}): Promise<HttpAnswer> {
  try {
    return await requestOnce(url, options);
  } catch (error) {
    const reset = (error as NodeJS.ErrnoException).code === "ECONNRESET";
    if (!reset || (options.method ?? "GET") !== "GET") throw error;
    return requestOnce(url, options);
  }
}

function requestOnce(url: string, options: RequestOptions): Promise<HttpAnswer> {
  return new Promise((resolve, reject) => {
    const request = http.request(
      url,
      { method: options.method ?? "GET", headers: options.headers, agent },
      (response) => {
        const chunks: Buffer[] = [];
        response.on("data", (chunk: Buffer) => chunks.push(chunk));
        response.on("end", () =>
          resolve({ status: response.statusCode ?? 0, body: Buffer.concat(chunks).toString() }),
        );
        response.on("error", reject);
      },
    );
    request.on("error", reject);
    if (options.body !== undefined) request.end(options.body);
    else request.end();
  });
}

export function closeHttpAgent(): void {
  agent.destroy();
}

/**
 * VmRSS, VmHWM (peak) and RssAnon (heap, buffers: not file-backed) of a process, in MiB, from
 * /proc/<pid>/status.
 */
export function readProcessMemory(
  pid: number,
): { rssMb: number; hwmMb: number; anonMb: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, "utf8");
    const kb = (field: string) =>
      Number(new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status)?.[1]);
    return { rssMb: kb("VmRSS") / 1024, hwmMb: kb("VmHWM") / 1024, anonMb: kb("RssAnon") / 1024 };
  } catch {
    return null;
  }
}

/**
 * Resets a process's VmHWM to its current RSS (`/proc/<pid>/clear_refs`, value 5), so the peak
 * read afterwards belongs to what runs from now on, not to start-up. False where not permitted.
 */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

/** Samples a process's RSS every `intervalMs` until stopped; reports the highest seen. */
export function sampleRss(pid: number, intervalMs = 100) {
  let maxRssMb = 0;
  let maxAtSeconds = 0;
  let lastHwmMb = 0;
  const timeline: { t: number; rssMb: number; anonMb: number }[] = [];
  const t0 = performance.now();
  const take = () => {
    const memory = readProcessMemory(pid);
    if (!memory) return;
    if (memory.rssMb > maxRssMb) {
      maxRssMb = memory.rssMb;
      maxAtSeconds = round((performance.now() - t0) / 1000, 2);
    }
    lastHwmMb = Math.max(lastHwmMb, memory.hwmMb);
    timeline.push({
      t: round((performance.now() - t0) / 1000, 2),
      rssMb: round(memory.rssMb),
      anonMb: round(memory.anonMb),
    });
  };
  take();
  const timer = setInterval(take, intervalMs);
  return {
    stop() {
      clearInterval(timer);
      take();
      return { maxRssMb, maxAtSeconds, hwmMb: lastHwmMb, timeline };
    },
  };
}

/**
 * Open-loop load at a steady rate: request i is due at start + i / rate whatever happened to the
 * others (each on a connection of its own from a keep-alive pool, so nothing queues in the
 * client), and its latency counts from when it was due, so a stalled server cannot hide its
 * queueing (no coordinated omission).
 */
export async function pacedLoad(
  url: string,
  options: { method: string; headers: Record<string, string>; bodies: string[] },
  rate: number,
  seconds: number,
): Promise<{ latencies: number[]; errors: number; sent: number }> {
  const pacedAgent = new http.Agent({ keepAlive: true, maxSockets: 512 });
  const latencies: number[] = [];
  let errors = 0;
  const total = Math.max(1, Math.round(rate * seconds));
  const pending: Promise<void>[] = [];
  const start = performance.now() + 20;
  for (let i = 0; i < total; i++) {
    const due = start + (i * 1000) / rate;
    const wait = due - performance.now();
    if (wait > 0) await sleep(wait);
    const body = options.bodies[i % options.bodies.length] as string;
    pending.push(
      new Promise<void>((resolve) => {
        const request = http.request(
          url,
          { method: options.method, headers: options.headers, agent: pacedAgent },
          (response) => {
            response.resume();
            response.on("end", () => {
              if ((response.statusCode ?? 0) >= 300) errors++;
              else latencies.push(performance.now() - due);
              resolve();
            });
          },
        );
        request.on("error", () => {
          errors++;
          resolve();
        });
        request.end(body);
      }),
    );
  }
  await Promise.all(pending);
  pacedAgent.destroy();
  return { latencies, errors, sent: total };
}
