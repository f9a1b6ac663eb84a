// Writes src/generated/event-summaries.ts: what the console needs from the catalog at boot (type,
// category, title, flags) without the catalog's zod schemas, whose construction was the largest
// part of the console's start-up under a slow CPU. Run after changing the catalog:
//   pnpm --filter @auditlog/events run generate:summaries
// event-summaries.test.ts fails while the file differs from what this writes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventSummariesSource } from "../src/event-summaries-source.ts";

const file = join(import.meta.dirname, "../src/generated/event-summaries.ts");
writeFileSync(file, eventSummariesSource());
console.log(`wrote ${file}`);
