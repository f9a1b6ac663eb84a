import { z } from "zod";

/**
 * The contract between the API (producer) and the worker (consumer). Queue names are
 * configurable so tests can run against their own queues.
 */
export const defaultQueueNames = {
  ingest: "auditlog-ingest",
} as const;

export const ingestBatchJobSchema = z.strictObject({
  orgId: z.string().min(1),
  receivedAt: z.iso.datetime(),
  /** Validated by the API, validated again by the worker, which is the authority. */
  events: z.array(z.unknown()).min(1).max(1000),
});
export type IngestBatchJob = z.infer<typeof ingestBatchJobSchema>;

export const ingestJobNames = { batch: "ingest.batch" } as const;

/** Every job name with its payload schema; workers must register a handler for each. */
export const ingestJobs = {
  [ingestJobNames.batch]: ingestBatchJobSchema,
} as const;
export type IngestJobName = keyof typeof ingestJobs;
export type IngestJobPayloads = { [K in IngestJobName]: z.infer<(typeof ingestJobs)[K]> };
