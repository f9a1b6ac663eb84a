import { spawn } from "node:child_process";
import { copyFileSync, rmSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { buildClient } from "./support/build.ts";
import { compareIds, type Stack, startStack, waitFor } from "./support/stack.ts";

/**
 * A service process (plain node running the client's built JavaScript) that records events and
 * exits: on SIGTERM, or because it has nothing left to do (beforeExit). Events still buffered
 * (the last, partial batch) are flushed before it goes, and all are stored once.
 */
describe("AuditLogClient flushes when its process exits", () => {
  let stack: Stack;
  let dist: string;

  beforeAll(async () => {
    dist = buildClient();
    copyFileSync(
      new URL("./fixtures/exit-service.mjs", import.meta.url),
      join(dist, "exit-service.mjs"),
    );
    stack = await startStack();
    await stack.api.start();
    stack.worker.start();
  });
  afterAll(async () => {
    await stack?.close();
    if (dist) rmSync(dist, { recursive: true, force: true });
  });

  /** Runs the service, waits for it to have recorded everything, stops it as `mode` says. */
  async function runService(mode: "signal" | "natural", events: number) {
    const child = spawn(process.execPath, [join(dist, "exit-service.mjs")], {
      cwd: dist,
      env: {
        PATH: process.env.PATH,
        CLIENT_ENTRY: join(dist, "index.js"),
        AUDITLOG_URL: stack.url,
        AUDITLOG_KEY: stack.apiKey,
        EVENTS: String(events),
        MODE: mode,
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk: Buffer) => {
      stdout += chunk.toString("utf8");
    });
    child.stderr.on("data", (chunk: Buffer) => {
      stderr += chunk.toString("utf8");
    });
    const exit = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
      child.once("exit", (code, signal) => resolve({ code, signal })),
    );
    const lines = () => stdout.split("\n").filter(Boolean);
    await waitFor(
      () => lines().length,
      (count) => count >= 1 || child.exitCode !== null,
    );
    const { ids } = JSON.parse(lines()[0] ?? "{}") as { ids: string[] };
    if (mode === "signal") child.kill("SIGTERM");
    const outcome = await exit;
    const last = lines().at(-1);
    const final = lines().length > 1 && last ? (JSON.parse(last) as { stats?: unknown }) : {};
    return { ids, outcome, final, stderr };
  }

  it("on SIGTERM: flushes the buffered events, then dies of the signal as it would have", async () => {
    const { ids, outcome, stderr } = await runService("signal", 2500);
    expect(stderr).toBe("");
    expect(ids).toHaveLength(2500);
    // The signal's default action, raised again once the flush is done: the exit status a
    // supervisor expects from a SIGTERM, not a quiet 0.
    expect(outcome).toEqual({ code: null, signal: "SIGTERM" });
    const comparison = compareIds(await stack.waitForStored(2500), ids);
    console.log("[client exit SIGTERM]", JSON.stringify({ outcome, comparison }));
    expect(comparison).toEqual({
      stored: 2500,
      expected: 2500,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });

  it("at beforeExit (nothing left to do): flushes, then exits 0", async () => {
    const before = new Set(await stack.storedIds());
    const { ids, outcome, final, stderr } = await runService("natural", 1700);
    expect(stderr).toBe("");
    expect(outcome).toEqual({ code: 0, signal: null });
    expect(final).toMatchObject({
      code: 0,
      stats: { recorded: 1700, acknowledged: 1700, pending: 0, abandoned: 0, dropped: 0 },
    });
    const stored = (await stack.waitForStored(before.size + 1700)).filter((id) => !before.has(id));
    const comparison = compareIds(stored, ids);
    console.log("[client exit beforeExit]", JSON.stringify({ outcome, final, comparison }));
    expect(comparison).toEqual({
      stored: 1700,
      expected: 1700,
      missing: 0,
      unexpected: 0,
      twice: 0,
    });
  });
});
