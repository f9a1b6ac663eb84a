export * from "./export-jobs.ts";
export * from "./ingest-jobs.ts";
export * from "./job-catalog.ts";
export * from "./lifecycle-jobs.ts";
export * from "./notification-jobs.ts";
export * from "./queue-env.ts";
