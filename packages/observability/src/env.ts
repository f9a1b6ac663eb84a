import { z } from "zod";

export const logLevels = ["debug", "info", "warn", "error"] as const;

/** How much a process logs. */
export const loggingEnv = {
  LOG_LEVEL: z.enum(logLevels).default("info"),
};

/**
 * An app's configuration, parsed once at boot from `source` (the app's env.ts passes
 * `process.env`): every problem is named in one error, so a bad deployment fails at start, not
 * at the first request that reads a setting.
 */
export function parseEnv<T extends z.ZodType>(
  schema: T,
  source: Record<string, string | undefined>,
  app: string,
): z.infer<T> {
  const parsed = schema.safeParse(source);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => `${i.path.join(".")}: ${i.message}`);
    throw new Error(`invalid ${app} configuration: ${problems.join("; ")}`);
  }
  return parsed.data;
}
