/**
 * The ingest worker's per-event work before the database, in one process (issue 21, part 1):
 * a job's events built into entries (`buildEntries`: anonymised, geolocated with the bundled
 * databases, described) and the COPY bytes of the entries, before and after, interleaved (the
 * best of 12 rounds each, the order swapped every round), so a loaded machine slows both alike. Before: mmdb-lib's lookup for
 * every address, `Buffer.from(toCopyText(…))`; after: the IPv4 tree walk, `toCopyBytes`.
 * `cd bench && npx tsx worker-build-cpu.ts`; see BENCHMARKS.md (issue 21).
 */
import { newId } from "@auditlog/events";
import { catalogFingerprint, type IngestBatchJob } from "@auditlog/events/jobs";
import { buildEntries, loadWorkerEnv, openGeolocator } from "@auditlog/worker";
import { toCopyBytes, toCopyText } from "../packages/db/src/entries.ts";
import { prepareBodies } from "./lib/ingest.ts";

const env = loadWorkerEnv();
const paths = { ipv4: env.GEOIP_IPV4_DATABASE, ipv6: env.GEOIP_IPV6_DATABASE };
const geolocators = {
  before: openGeolocator(paths, { treeWalk: false }),
  after: openGeolocator(paths),
};
// What the API writes into a job: each event with its id and time, the job stamped.
const jobs: IngestBatchJob[] = prepareBodies(400, 100).map((body) => {
  const receivedAt = new Date();
  const text = receivedAt.toISOString();
  const events = (JSON.parse(body) as { events: Record<string, unknown>[] }).events.map((e) => ({
    ...e,
    id: newId("evt", receivedAt),
    occurredAt: text,
  }));
  return JSON.parse(
    JSON.stringify({ orgId: "org_bench", receivedAt: text, catalog: catalogFingerprint, events }),
  );
});
const events = jobs.length * 100;
const seqs = Array.from({ length: 100 }, (_, i) => i + 1);
const best: Record<string, number> = {};
const cpu = () => {
  const used = process.cpuUsage();
  return used.user + used.system;
};
const note = (name: string, micros: number) => {
  best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, micros / events);
};
for (let round = 0; round < 12; round++) {
  for (const variant of round % 2 === 0
    ? (["before", "after"] as const)
    : (["after", "before"] as const)) {
    let t = cpu();
    const built = jobs.map((job, i) => buildEntries(job, geolocators[variant], `job:${i}`));
    note(`buildEntries, ${variant}`, cpu() - t);
    t = cpu();
    let bytes = 0;
    for (const batch of built) {
      bytes +=
        variant === "before"
          ? Buffer.from(toCopyText(batch.entries, seqs)).length
          : toCopyBytes(batch.entries, seqs).length;
    }
    note(`COPY bytes, ${variant}`, cpu() - t);
    if (bytes === 0) throw new Error("no rows");
  }
}
for (const [name, micros] of Object.entries(best)) {
  process.stdout.write(`${name}: ${micros.toFixed(2)} µs CPU per event\n`);
}
