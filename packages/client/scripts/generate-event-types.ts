// Writes src/generated/event-types.ts: the catalog's event shapes as plain TypeScript, so the
// client is typed by the catalog and imports nothing from the workspace at run time. Run after
// changing the catalog:
//   pnpm --filter @auditlog/client run generate:event-types
// test/event-types.test.ts fails while the file differs from what this writes.
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { eventTypesSource } from "./event-types-source.ts";

const file = join(import.meta.dirname, "../src/generated/event-types.ts");
writeFileSync(file, eventTypesSource());
console.log(`wrote ${file}`);
