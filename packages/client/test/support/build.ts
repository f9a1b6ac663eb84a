import { spawnSync } from "node:child_process";
import { mkdtempSync } from "node:fs";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { join } from "node:path";

const packageDir = new URL("../../", import.meta.url).pathname;

/**
 * The client compiled as it is published (`tsconfig.build.json`, the `build` script), into a
 * directory outside the repository: no node_modules above it, so what it imports must be Node's.
 */
export function buildClient(): string {
  const outDir = mkdtempSync(join(tmpdir(), "auditlog-client-dist-"));
  const tsc = createRequire(import.meta.url).resolve("typescript/lib/tsc.js");
  const result = spawnSync(
    process.execPath,
    [tsc, "-p", join(packageDir, "tsconfig.build.json"), "--outDir", outDir],
    { encoding: "utf8" },
  );
  if (result.status !== 0) throw new Error(`tsc failed: ${result.stdout}${result.stderr}`);
  return outDir;
}
