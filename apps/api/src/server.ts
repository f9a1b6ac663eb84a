import { createApp } from "./app.ts";
import { loadApiEnv } from "./env.ts";
import { serveApi } from "./http/node-server.ts";
import { createServices, type Services } from "./services.ts";
import { CheckpointKeyFileError } from "./transparency/checkpoint-keys.ts";

const env = loadApiEnv();
let services: Services;
try {
  services = createServices(env);
} catch (error) {
  // An operator's mistake with a known fix: one line saying it, not a stack trace.
  if (!(error instanceof CheckpointKeyFileError)) throw error;
  process.stderr.write(`auditlog API not started: ${error.message}\n`);
  process.exit(1);
}
const app = createApp(services);
const server = serveApi(app.fetch, env, (info) => {
  services.logger.info(`API listening on http://${info.address}:${info.port}`);
});
// The boot log says whether the Redis behind the queues keeps what the API acknowledges.
void services.queueDurability.refresh();

let stopping = false;
for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    services.logger.info("API stopping");
    // Open SSE streams never end by themselves: end them so close() can finish.
    services.realtime.close();
    server.close(() => {
      // The logger writes in the background: its last lines go out before the exit.
      services
        .close()
        .finally(() => services.logger.flush())
        .finally(() => process.exit(0));
    });
    // Keep-alive connections can hold close() open; do not wait on them forever.
    setTimeout(() => process.exit(0), 10_000).unref();
  });
}
