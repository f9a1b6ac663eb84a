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
): Logger {
  const settings = {
    level: minimum,
    base: { service },
    messageKey: "message",
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label: string) => ({ level: label }) },
    redact: { paths: redactedPaths, censor },
  };
  // Synchronous writes: a process that exits right after logging (a failed start, SIGTERM)
  // still leaves its last lines.
  const out = pino(settings, options.stdout ?? pino.destination({ fd: 1, sync: true }));
  const err = pino(settings, options.stderr ?? pino.destination({ fd: 2, sync: true }));
  return {
    debug: (message, fields) => out.debug(fields ?? {}, message),
    info: (message, fields) => out.info(fields ?? {}, message),
    warn: (message, fields) => err.warn(fields ?? {}, message),
    error: (message, fields) => err.error(fields ?? {}, message),
  };
}
