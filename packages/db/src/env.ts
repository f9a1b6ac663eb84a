import { z } from "zod";

/** The setting every process that talks to PostgreSQL needs. */
export const databaseEnv = {
  DATABASE_URL: z.string().url().default("postgres://postgres@127.0.0.1:5432/auditlog"),
};
