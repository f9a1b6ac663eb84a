import { anonymizeIp } from "@auditlog/events/ip";
import { type DestinationStream, pino } from "pino";
import type { logLevels } from "./env.ts";

/**
 * One JSON line per record, written by pino. Callers pass ids and counts, never payloads or
 * request bodies: they carry full IP addresses, which must not reach logs. Redaction below is
 * the net under that rule, not a licence to log whole objects.
 */
export type Level = (typeof logLevels)[number];
export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
}

/**
 * Field names whose value is a credential, at the top of a record or one level down (a
 * `headers` object, an `error` object): replaced by "[redacted]" whatever they hold.
 */
const secretFields = [
  "authorization",
  "cookie",
  "set-cookie",
  "apiKey",
  "api_key",
  "key",
  "token",
  "accessToken",
  "password",
  "passwordHash",
  "secret",
  "csrfToken",
  "sessionId",
];

/** Field names that hold a client address: kept truncated (a /24 or /48), like stored events. */
const addressFields = ["ip", "clientIp", "remoteAddress", "x-forwarded-for", "x-real-ip"];

const bracket = (name: string) => (/^[A-Za-z_$][\w$]*$/.test(name) ? `.${name}` : `["${name}"]`);

/** pino's redaction paths: each name at the top level and one level down. */
export const redactedPaths = [...secretFields, ...addressFields].flatMap((name) => [
  bracket(name).replace(/^\./, ""),
  `*${bracket(name)}`,
]);

const addressNames = new Set(addressFields);

/** An address field keeps its network part; anything else redacted is replaced whole. */
function censor(value: unknown, path: string[]): unknown {
  const field = path[path.length - 1] ?? "";
  if (addressNames.has(field) && typeof value === "string") {
    // X-Forwarded-For may list several hops: truncate each.
    const parts = value.split(",").map((part) => anonymizeIp(part.trim()) ?? "[redacted]");
    return parts.join(", ");
  }
  return "[redacted]";
}

/** A process's own logger: its lines are written in the background, so it must be flushed. */
export interface ProcessLogger extends Logger {
  /**
   * Resolves once every line logged so far is written out. A process calls it last, before
   * `process.exit` at the end of a graceful stop. (An exit without it still writes what is
   * buffered: pino flushes its destinations synchronously on the process's `exit` event.)
   */
  flush(): Promise<void>;
}

export interface LoggerOptions {
  /** Where info and debug lines go (stdout by default). */
  stdout?: DestinationStream;
  /** Where warn and error lines go (stderr by default), so an operator can split them. */
  stderr?: DestinationStream;
}

/**
 * `{ level, time, service, …fields, message }` per line: the field names every log line had
 * before pino, so dashboards and tests reading them keep working.
 */
export function createLogger(
  service: string,
  minimum: Level = "info",
  options: LoggerOptions = {},
): ProcessLogger {
  const settings = {
    level: minimum,
    base: { service },
    messageKey: "message",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactedPaths, censor },
  };
  // Asynchronous writes (sonic-boom): a line is queued and written by libuv off the event loop,
  // lines logged while a write is in flight go out together in the next one. Synchronous writes
  // cost every request a blocking write(2) on the API's event loop (BENCHMARKS.md, telemetry's
  // cost). No line is lost at the end: a graceful stop awaits flush(), and pino registers a
  // synchronous flush on `exit` for any other exit (a failed start, a timed-out stop).
  const stdout = options.stdout ?? pino.destination({ fd: 1, sync: false });
  const stderr = options.stderr ?? pino.destination({ fd: 2, sync: false });
  let out = pino(settings, stdout);
  let err = pino(settings, stderr);
  return {
    debug: (message, fields) => out.debug(fields ?? {}, message),
    info: (message, fields) => out.info(fields ?? {}, message),
    warn: (message, fields) => err.warn(fields ?? {}, message),
    error: (message, fields) => err.error(fields ?? {}, message),
    flush: async () => {
      await Promise.all([drained(stdout), drained(stderr)]);
      // A line logged after this (a late callback before the exit) is written at once.
      if (!options.stdout) out = pino(settings, pino.destination({ fd: 1, sync: true }));
      if (!options.stderr) err = pino(settings, pino.destination({ fd: 2, sync: true }));
    },
  };
}

/**
 * Ends a destination and resolves once it has written everything it held (for sonic-boom: the
 * write in flight, then the lines queued behind it). sonic-boom's own flush(cb) answers at once
 * when it does not buffer, even with a write in flight.
 */
function drained(stream: DestinationStream): Promise<void> {
  const boom = stream as DestinationStream & {
    end?: () => void;
    destroyed?: boolean;
    once?: (event: string, listener: () => void) => void;
  };
  if (typeof boom.end !== "function" || typeof boom.once !== "function" || boom.destroyed) {
    return Promise.resolve();
  }
  return new Promise((resolve) => {
    boom.once?.("close", resolve);
    // An error writing the log (a closed pipe) must not hold the process's exit.
    boom.once?.("error", resolve);
    boom.end?.();
  });
}
