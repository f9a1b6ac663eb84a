import { z } from "zod";

const envSchema = z.object({
  HOST: z.string().default("127.0.0.1"),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/auditlog"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  INGEST_QUEUE: z.string().min(1).default("auditlog-ingest"),
  /** A request body larger than this is refused with 413 before it is parsed. */
  MAX_BODY_BYTES: z.coerce.number().int().min(1024).default(1024 * 1024),
  /** How long a producer waits on Redis before answering 503. */
  REDIS_COMMAND_TIMEOUT_MS: z.coerce.number().int().min(100).default(2000),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type ApiEnv = z.infer<typeof envSchema>;

export function loadApiEnv(source: NodeJS.ProcessEnv = process.env): ApiEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid API configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}
