import type { ExportRecord } from "@auditlog/db";

/**
 * Called once an export has finished, with its final record: `status` is `ready` (file written,
 * `fileSize`, `expiresAt` set) or `failed` (`error` set, a message safe to show users). The
 * notifications side implements it (console notification, email, webhook); the worker wires it
 * in start-worker.ts.
 *
 * Called after the row is updated, once per export by the attempt that finished it; a hook that
 * throws is logged and does not change the export. A worker crash between the update and the
 * call loses the call (at most once): a hook needing certainty can sweep finished exports too.
 */
export type OnExportFinished = (record: FinishedExportRecord) => Promise<void>;

/** An export record in one of the two final states a build ends in. */
export type FinishedExportRecord = ExportRecord & { status: "ready" | "failed" };
