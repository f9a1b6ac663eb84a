export { anonymizeIp, toMappedIpv4 } from "@auditlog/events/ip";
export { exportWorkerNodeOptions } from "./deployment.ts";
export { loadWorkerEnv, workerRoles } from "./env.ts";
export {
  type ExportBuildDeps,
  handleBuildExport,
} from "./exports/build-export.ts";
export {
  type CheckpointCutOptions,
  cutAtCheckpoint,
  type ExportCheckpoint,
  loadCheckpointSigning,
} from "./exports/cut-checkpoint.ts";
export type { FinishedExportRecord, OnExportFinished } from "./exports/export-finished.ts";
export { abandonedExportAgeMs, sweepExports } from "./exports/sweep-exports.ts";
export { noGeolocation, openGeolocator } from "./geo/geolocate.ts";
export { buildEntries } from "./ingest/build-entries.ts";
export { startLifecycleConsumer } from "./lifecycle/lifecycle-consumer.ts";
export { recordWorkerAction } from "./lifecycle/record-log-entry.ts";
export { type LifecycleSummary, runLifecycle } from "./lifecycle/run-lifecycle.ts";
export * from "./notifications/index.ts";
export { startWorker } from "./start-worker.ts";
export {
  CheckpointKeyError,
  loadCheckpointSigner,
  startCheckpointSigner,
} from "./transparency/checkpoint-signer.ts";
export {
  type AdvanceResult,
  advanceLogTree,
  type CheckpointSigning,
} from "./transparency/log-tree-builder.ts";
