import { z } from "zod";

/**
 * The daily data lifecycle (issue 16), added by a BullMQ job scheduler: purges audit entries
 * past their organisation's retention and ages every other kind of stored data. No payload.
 */
export const lifecycleRunJobSchema = z.strictObject({});
export type LifecycleRunJob = z.infer<typeof lifecycleRunJobSchema>;
