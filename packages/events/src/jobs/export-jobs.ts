import { z } from "zod";

/** Builds one export's file; the row in `exports` holds everything else (query, format …). */
export const exportBuildJobSchema = z.strictObject({
  exportId: z.string().regex(/^exp_[0-9a-f]{24}$/),
});
export type ExportBuildJob = z.infer<typeof exportBuildJobSchema>;

/** Scheduled (a BullMQ job scheduler): deletes files past their expiry. No payload. */
export const exportExpireJobSchema = z.strictObject({});
export type ExportExpireJob = z.infer<typeof exportExpireJobSchema>;
