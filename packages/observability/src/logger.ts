import type { logLevels } from "./env.ts";

/**
 * One JSON line per record. Callers pass ids and counts, never payloads or request bodies: they carry full IP
 * addresses, which must not reach logs.
 */
export type Level = (typeof logLevels)[number];
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

const order: Record<Level, number> = { debug: 10, info: 20, warn: 30, error: 40 };

export function createLogger(service: string, minimum: Level = "info"): Logger {
  const write =
    (level: Level) =>
    (message: string, fields: Record<string, unknown> = {}) => {
      if (order[level] < order[minimum]) return;
      const line = JSON.stringify({
        time: new Date().toISOString(),
        level,
        service,
        message,
        ...fields,
      });
      (level === "error" || level === "warn" ? process.stderr : process.stdout).write(`${line}\n`);
    };
  return { debug: write("debug"), info: write("info"), warn: write("warn"), error: write("error") };
}
