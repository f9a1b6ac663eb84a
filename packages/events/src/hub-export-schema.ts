import { readFileSync } from "node:fs";

/**
 * The Hub's export schema (reference/hub-audit-log-export.schema.json), for Node-side tests and
 * tools: the catalog must hold every type of its `type` enum, and the Hub-compatible export must
 * validate against it. Kept out of the package's main entry so the web console never bundles it.
 */
export const hubExportSchema = JSON.parse(
  readFileSync(new URL("../reference/hub-audit-log-export.schema.json", import.meta.url), "utf8"),
) as {
  items: { properties: { type: { enum: string[] } } };
} & Record<string, unknown>;
