import http from "node:http";
import os from "node:os";
import { performance } from "node:perf_hooks";
import { brotliDecompressSync, gunzipSync } from "node:zlib";
import { createDatabase } from "@auditlog/db";
import { cpuPerItem, isPostgresProcess, startGroupCpu } from "./cpu-accounting.ts";
import type { SeededOrg } from "./seed.ts";
import { benchDatabaseUrl, createAdminToken } from "./stack.ts";
import { formatCount, log, round } from "./util.ts";

export interface HubExportCaseResult {
  /** What the client sent as Accept-Encoding (`identity`: none). */
  acceptEncoding: "identity" | "gzip" | "br";
  /** The answer's Content-Encoding (`identity` when none). */
  contentEncoding: string;
  status: number;
  entries: number;
  seconds: number;
  /** From the request to the last byte of the answer. */
  entriesPerSecond: number;
  /** Body bytes as they crossed the socket (compressed when the answer was). */
  wireBytes: number;
  /** The JSON's own size (decompressed). */
  jsonBytes: number;
  /** CPU µs per entry of the API process and of the bench database's PostgreSQL backends. */
  cpuPerEntry: Record<string, number>;
  /** The 1-minute load average when the request was sent (the machine is shared). */
  loadAverage1m: number;
}

export interface HubExportResult {
  org: string;
  orgEntries: number;
  cases: HubExportCaseResult[];
}

/** One GET, the body's bytes counted as they arrive (Node's http does not decompress). */
function fetchRaw(
  url: string,
  headers: Record<string, string>,
): Promise<{ status: number; encoding: string; body: Buffer }> {
  return new Promise((resolve, reject) => {
    const request = http.request(url, { headers, agent: false }, (response) => {
      const chunks: Buffer[] = [];
      response.on("data", (chunk: Buffer) => chunks.push(chunk));
      response.on("end", () =>
        resolve({
          status: response.statusCode ?? 0,
          encoding: String(response.headers["content-encoding"] ?? "identity"),
          body: Buffer.concat(chunks),
        }),
      );
      response.on("error", reject);
    });
    request.on("error", reject);
    request.end();
  });
}

/**
 * The Hub-compatible export (`GET /api/organizations/:org/audit-log/export`, its default cap of
 * 100,000 entries) of `org` through the running API, once per Accept-Encoding, each timed from
 * the request to the answer's last byte. The body is checked (entries counted) after the clock.
 */
export async function runHubExport(
  apiPort: number,
  apiPid: number,
  org: SeededOrg,
  encodings: HubExportCaseResult["acceptEncoding"][] = ["identity", "gzip", "br"],
): Promise<HubExportResult> {
  const db = createDatabase({ url: benchDatabaseUrl, poolSize: 1 });
  const cases: HubExportCaseResult[] = [];
  const databaseName = new URL(benchDatabaseUrl).pathname.slice(1);
  try {
    const token = await createAdminToken(db, org.slug);
    const url = `http://127.0.0.1:${apiPort}/api/organizations/${org.slug}/audit-log/export`;
    // One untimed small request first: the route's modules compiled, the pool's connections open.
    await fetchRaw(`${url}?limit=10`, { authorization: `Bearer ${token}` });
    for (const acceptEncoding of encodings) {
      const loadAverage1m = round(os.loadavg()[0] ?? 0, 2);
      // Only this database's backends: the server is shared with other work on the machine.
      const cpu = startGroupCpu({
        postgres: (cmdline) => isPostgresProcess(cmdline) && cmdline.includes(` ${databaseName} `),
        api: [apiPid],
      });
      const before = cpu.read();
      const started = performance.now();
      const answer = await fetchRaw(url, {
        authorization: `Bearer ${token}`,
        ...(acceptEncoding === "identity" ? {} : { "accept-encoding": acceptEncoding }),
      });
      const seconds = (performance.now() - started) / 1000;
      const after = cpu.read();
      cpu.stop();
      if (answer.status !== 200) {
        throw new Error(`hub export: ${answer.status} ${answer.body.toString().slice(0, 300)}`);
      }
      const json =
        answer.encoding === "gzip"
          ? gunzipSync(answer.body)
          : answer.encoding === "br"
            ? brotliDecompressSync(answer.body)
            : answer.body;
      // `[`, one line per entry, `]`: the lines between the brackets are the entries.
      let newlines = 0;
      for (let at = json.indexOf(10); at !== -1; at = json.indexOf(10, at + 1)) newlines++;
      const entries = Math.max(0, newlines - 2);
      if (
        json.subarray(0, 2).toString() !== "[\n" ||
        !json.subarray(-3).equals(Buffer.from("\n]\n"))
      ) {
        throw new Error("hub export: the answer is not a complete JSON array");
      }
      const result: HubExportCaseResult = {
        acceptEncoding,
        contentEncoding: answer.encoding,
        status: answer.status,
        entries,
        seconds: round(seconds, 3),
        entriesPerSecond: Math.round(entries / seconds),
        wireBytes: answer.body.length,
        jsonBytes: json.length,
        cpuPerEntry: cpuPerItem(before, after, Math.max(1, entries)),
        loadAverage1m,
      };
      cases.push(result);
      log(
        `hub export (${acceptEncoding}): ${formatCount(entries)} entries in ${round(seconds, 2)} s, ${formatCount(result.entriesPerSecond)}/s, ${round(result.wireBytes / 1e6, 1)} MB on the wire (${answer.encoding}), load ${loadAverage1m}`,
      );
    }
    return { org: org.slug, orgEntries: org.entries, cases };
  } finally {
    await db.close();
  }
}
