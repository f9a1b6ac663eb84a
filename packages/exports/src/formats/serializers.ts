import type { AuditEntry, ExportFormat } from "@auditlog/events";
import { csvSerializer } from "./csv.ts";

/**
 * How entries become text in each export format. A serializer works one entry at a time, so the
 * builder never holds more than one batch: `start`, then `row` per entry (index from 0), then
 * `end`. The output is only valid once `end` is written, which the builder does only after the
 * last entry.
 */
export interface ExportSerializer {
  readonly start: string;
  row(entry: AuditEntry, index: number): string;
  readonly end: string;
}

/** One valid JSON array of the query API's entry shape, one entry per line. */
const jsonSerializer: ExportSerializer = {
  start: "[",
  row: (entry, index) => `${index === 0 ? "\n" : ",\n"}${JSON.stringify(entry)}`,
  end: "\n]\n",
};

/** One entry (the query API's shape) per line. */
const ndjsonSerializer: ExportSerializer = {
  start: "",
  row: (entry) => `${JSON.stringify(entry)}\n`,
  end: "",
};

export function serializerFor(format: ExportFormat): ExportSerializer {
  switch (format) {
    case "json":
      return jsonSerializer;
    case "ndjson":
      return ndjsonSerializer;
    case "csv":
      return csvSerializer;
  }
}
