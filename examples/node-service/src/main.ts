import { AuditLogClient } from "@auditlog/client";
import { createService } from "./service.ts";

// The service's configuration: where the audit log is, its ingestion key, its own port.
const baseUrl = process.env.AUDITLOG_URL ?? "http://127.0.0.1:3000";
const apiKey = process.env.AUDITLOG_API_KEY;
const port = Number(process.env.PORT ?? 4000);
if (!apiKey) {
  process.stderr.write("set AUDITLOG_API_KEY to an ingestion key (auditlog key create)\n");
  process.exit(1);
}

// Flushes on SIGTERM/SIGINT by itself (handleExit); the service's own handler below closes the
// HTTP server first, then waits for the client's flush before exiting.
const log = new AuditLogClient({ baseUrl, apiKey });
const server = createService(log);
server.listen(port, "127.0.0.1", () => {
  process.stdout.write(`example service listening on http://127.0.0.1:${port}\n`);
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    server.close();
    void log.close().then((stats) => {
      process.stdout.write(`audit events: ${JSON.stringify(stats)}\n`);
      process.exit(0);
    });
  });
}
