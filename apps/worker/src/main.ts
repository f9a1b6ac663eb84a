import { raiseNiceness } from "./deployment.ts";
import { loadWorkerEnv } from "./env.ts";
import { startWorker } from "./start-worker.ts";

const env = loadWorkerEnv();
// Before anything runs: the process's own start-up is background work too.
const niceness = raiseNiceness(env.WORKER_NICENESS);
const worker = await startWorker(env);
worker.logger.info("worker priority", { niceness });
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    worker.stop().then(
      () => process.exit(0),
      (error: Error) => {
        worker.logger.error("shutdown failed", { error: error.message });
        process.exit(1);
      },
    );
  });
}
