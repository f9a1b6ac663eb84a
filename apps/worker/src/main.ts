import { raiseNiceness } from "./deployment.ts";
import { loadWorkerEnv } from "./env.ts";
import { startWorker } from "./start-worker.ts";
import { CheckpointKeyError } from "./transparency/checkpoint-signer.ts";

const env = loadWorkerEnv();
// Before anything runs: the process's own start-up is background work too.
const niceness = raiseNiceness(env.WORKER_NICENESS);
const worker = await startWorker(env).catch((error: unknown) => {
  // A configuration the operator must fix: one line, no stack trace.
  if (!(error instanceof CheckpointKeyError)) throw error;
  console.error(`worker cannot start: ${error.message}`);
  process.exit(1);
});
worker.logger.info("worker priority", { niceness });
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    // The last lines ("worker stopped") are written before the exit: the logger writes in the
    // background.
    worker.stop().then(
      () => worker.logger.flush().then(() => process.exit(0)),
      (error: Error) => {
        worker.logger.error("shutdown failed", { error: error.message });
        process.exit(1);
      },
    );
  });
}
