/**
 * The API's per-event work on the ingest path, in one process, without HTTP or Redis: parse a
 * 100-event body, validate each event, give it its id and time, serialise the job as BullMQ
 * does. Once with zod's `parse` for every event, once with the compiled check and zod as the
 * fallback, interleaved (the best of 12 rounds each), so a loaded machine slows both alike.
 * `cd bench && npx tsx ingest-path-cpu.ts`; see BENCHMARKS.md (issue 21).
 */
import { auditEventSchema, isWellFormedEvent, newId } from "@auditlog/events";
import { eventContentIssues } from "../packages/events/src/event-content.ts";
import { eventFactory } from "./lib/data.ts";

const factory = eventFactory(42);
const bodies = Array.from({ length: 200 }, () =>
  JSON.stringify({ events: Array.from({ length: 100 }, () => factory.event()) }),
);
const best: Record<string, number> = {};

function run(name: string, validate: (event: unknown) => Record<string, unknown>) {
  const start = process.cpuUsage();
  for (const body of bodies) {
    const receivedAt = new Date();
    const receivedAtText = receivedAt.toISOString();
    const accepted: Record<string, unknown>[] = [];
    for (const candidate of (JSON.parse(body) as { events: unknown[] }).events) {
      const event = validate(candidate);
      eventContentIssues(event as never);
      event.id ??= newId("evt", receivedAt);
      event.occurredAt ??= receivedAtText;
      accepted.push(event);
    }
    JSON.stringify({ orgId: "org", receivedAt: receivedAtText, events: accepted });
  }
  const used = process.cpuUsage(start);
  const micros = (used.user + used.system) / (bodies.length * 100);
  best[name] = Math.min(best[name] ?? Number.POSITIVE_INFINITY, micros);
}

for (let round = 0; round < 12; round++) {
  run("zod for every event", (event) => auditEventSchema.parse(event));
  run("compiled check, zod as the fallback", (event) =>
    isWellFormedEvent(event) ? (event as Record<string, unknown>) : auditEventSchema.parse(event),
  );
}
for (const [name, micros] of Object.entries(best)) {
  process.stdout.write(`${name}: ${micros.toFixed(2)} µs CPU per event\n`);
}
