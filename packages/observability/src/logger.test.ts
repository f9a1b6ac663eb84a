import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { createLogger } from "./logger.ts";

function capture() {
  const lines: Record<string, unknown>[] = [];
  const stream = new Writable({
    write(chunk: Buffer, _encoding, done) {
      for (const line of chunk.toString("utf8").split("\n").filter(Boolean)) {
        lines.push(JSON.parse(line));
      }
      done();
    },
  });
  return { lines, stream };
}

describe("createLogger (pino underneath)", () => {
  it("writes the fields every line had before: level, time, service, message, and the caller's", () => {
    const out = capture();
    createLogger("api", "info", { stdout: out.stream }).info("hello", { count: 3 });
    expect(out.lines).toHaveLength(1);
    const [line] = out.lines;
    expect(line).toMatchObject({ level: "info", service: "api", message: "hello", count: 3 });
    expect(new Date(line?.time as string).toISOString()).toBe(line?.time);
  });

  it("sends warn and error to the second stream and drops what is below the level", () => {
    const out = capture();
    const err = capture();
    const logger = createLogger("worker", "info", { stdout: out.stream, stderr: err.stream });
    logger.debug("quiet");
    logger.info("said");
    logger.warn("careful");
    logger.error("broken");
    expect(out.lines.map((l) => l.message)).toEqual(["said"]);
    expect(err.lines.map((l) => [l.level, l.message])).toEqual([
      ["warn", "careful"],
      ["error", "broken"],
    ]);
  });

  it("redacts credentials and truncates addresses, at the top and one level down", () => {
    const out = capture();
    createLogger("api", "info", { stdout: out.stream }).info("request", {
      token: "pat_secret_value",
      password: "hunter2hunter2",
      ip: "203.0.113.77",
      headers: {
        authorization: "Bearer key_live_abcdef",
        cookie: "auditlog_session=abc",
        "x-forwarded-for": "198.51.100.23, 2001:db8:1:2::9",
      },
      error: { secret: "s3cr3t", apiKey: "key_123" },
    });
    const text = JSON.stringify(out.lines);
    for (const leaked of [
      "pat_secret_value",
      "hunter2hunter2",
      "203.0.113.77",
      "key_live_abcdef",
      "auditlog_session=abc",
      "198.51.100.23",
      "2001:db8:1:2::9",
      "s3cr3t",
      "key_123",
    ]) {
      expect(text).not.toContain(leaked);
    }
    expect(out.lines[0]).toMatchObject({
      token: "[redacted]",
      ip: "203.0.113.0",
      headers: { "x-forwarded-for": "198.51.100.0, 2001:db8:1::" },
    });
  });

  it("flush() resolves once every line written in the background is in the file", async () => {
    const dir = mkdtempSync(join(tmpdir(), "auditlog-logger-"));
    try {
      const file = join(dir, "out.log");
      // The destination the apps use (asynchronous sonic-boom), on a file instead of fd 1.
      const stdout = pino.destination({ dest: file, sync: false });
      const logger = createLogger("api", "info", { stdout });
      for (let index = 0; index < 5_000; index++) logger.info("request", { index });
      await logger.flush();
      const written = readFileSync(file, "utf8").split("\n").filter(Boolean);
      expect(written).toHaveLength(5_000);
      expect(JSON.parse(written.at(-1) ?? "{}")).toMatchObject({ index: 4_999 });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
