/**
 * The checkpoint builder's read of new entries and their leaf hashes, old and new, interleaved
 * in one process (the best of 8 rounds each), so a loaded machine slows both alike (issue 21,
 * part 1): `readEntriesAfter` and `entryLeafHash` per entry (before) against
 * `readLeafHashesAfter` (COPY lines hashed from their bytes); this process's CPU and the
 * PostgreSQL backend's (from /proc) per entry.
 * `cd bench && TEST_DATABASE_URL=postgres://…/<a database of your own> npx tsx worker-path-cpu.ts`
 * (it writes 20,000 entries to one new organisation and purges them at the end).
 */
import { readFileSync } from "node:fs";
import {
  type AuditEntryRow,
  purgeOrganisationLog,
  readEntriesAfter,
  readLeafHashesAfter,
  writeAuditEntries,
} from "@auditlog/db";
import { driversOf } from "@auditlog/db/drivers";
import { createTestDatabase, prepareTestDatabase } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { entryLeafHash } from "@auditlog/tlog";
import { eventFactory, toTemplate } from "./lib/data.ts";

const ENTRIES = 20_000;
const ROUNDS = 8;

/** utime + stime of a process, in µs (clock ticks of 10 ms). */
function processCpuUs(pid: number): number {
  const fields = readFileSync(`/proc/${pid}/stat`, "utf8").split(") ")[1]?.split(" ") ?? [];
  return (Number(fields[11]) + Number(fields[12])) * 10_000;
}

const db = createTestDatabase();
await prepareTestDatabase();
const pool = driversOf(db).pool;
const orgId = newId("org");
const factory = eventFactory(21);
const rows: AuditEntryRow[] = [];
const receivedAt = new Date();
for (let i = 0; i < ENTRIES; i++) {
  const template = toTemplate(factory.event() as Record<string, unknown>);
  rows.push({
    ...template,
    orgId,
    id: newId("evt", receivedAt),
    occurredAt: i % 3 === 0 ? new Date(receivedAt.getTime() - i) : receivedAt,
    receivedAt,
    ip: i % 4 === 0 ? null : `203.0.${i % 200}.0`,
    countryCode: i % 4 === 0 ? null : "FR",
    region: i % 4 === 0 ? null : "Île-de-France",
    city: i % 4 === 0 ? null : "Paris",
    oauthClientId: null,
    oauthName: null,
  });
}
for (let i = 0; i < rows.length; i += 5000) await writeAuditEntries(db, rows.slice(i, i + 5000));

const best: Record<string, number> = {};
const note = (name: string, us: number) => {
  best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, us);
};
const client = await pool.connect();
try {
  const { rows: backend } = await client.query<{ pid: number }>("SELECT pg_backend_pid() AS pid");
  const backendPid = backend[0]?.pid as number;
  const ranges = [{ orgId, afterSeq: 0 }];
  for (let round = 0; round < ROUNDS; round++) {
    for (const variant of ["entries + entryLeafHash", "COPY lines, byte path"] as const) {
      await client.query("BEGIN");
      const started = process.cpuUsage();
      const pgStarted = processCpuUs(backendPid);
      let hashes = 0;
      if (variant === "entries + entryLeafHash") {
        const entries = (await readEntriesAfter(client, ranges, ENTRIES)).get(orgId) ?? [];
        for (const entry of entries) hashes += entryLeafHash(orgId, entry).length > 0 ? 1 : 0;
      } else {
        hashes =
          (await readLeafHashesAfter(client, ranges, ENTRIES)).get(orgId)?.hashes.length ?? 0;
      }
      const used = process.cpuUsage(started);
      const pgUsed = processCpuUs(backendPid) - pgStarted;
      await client.query("COMMIT");
      if (hashes !== ENTRIES) throw new Error(`${variant}: ${hashes} hashes`);
      note(`tree builder read, ${variant}: worker`, (used.user + used.system) / ENTRIES);
      note(`tree builder read, ${variant}: PostgreSQL`, pgUsed / ENTRIES);
    }
  }
} finally {
  client.release();
  await purgeOrganisationLog(db, orgId);
  await db.close();
}
const load = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).join(" ");
console.log(`CPU µs per entry, best of ${ROUNDS} rounds (load average ${load}):`);
for (const [name, us] of Object.entries(best))
  console.log(`  ${us.toFixed(2).padStart(7)}  ${name}`);
