import { loadWorkerEnv } from "./env.ts";
import { startWorker } from "./start-worker.ts";

const worker = await startWorker(loadWorkerEnv());
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
