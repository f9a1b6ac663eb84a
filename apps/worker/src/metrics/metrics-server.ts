import { once } from "node:events";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Logger, MetricsAccess, Registry } from "@auditlog/observability";

const refusals: Record<Exclude<MetricsAccess, "allowed">, [number, string]> = {
  disabled: [404, "no such route"],
  forbidden: [403, "metrics are not served to this address"],
  unauthorized: [401, "metrics need the scrape token (Bearer)"],
};

/**
 * The worker's only HTTP listener: `GET /metrics`, under the API's access rule (METRICS_TOKEN,
 * METRICS_ALLOW_CIDRS, the connecting peer's address). Anything else is 404.
 */
export async function startMetricsServer(options: {
  host: string;
  port: number;
  registry: Registry;
  access: (request: { authorization?: string; peer?: string }) => MetricsAccess;
  logger: Logger;
}): Promise<{ server: Server; url: string; close(): Promise<void> }> {
  const server = createServer((request, response) => {
    const path = (request.url ?? "").split("?")[0];
    const access =
      path === "/metrics" && request.method === "GET"
        ? options.access({
            authorization: request.headers.authorization,
            peer: request.socket.remoteAddress,
          })
        : "disabled";
    if (access !== "allowed") {
      const [status, message] = refusals[access];
      response.writeHead(status, {
        "content-type": "application/json",
        ...(access === "unauthorized" ? { "www-authenticate": 'Bearer realm="metrics"' } : {}),
      });
      response.end(JSON.stringify({ error: { message } }));
      return;
    }
    options.registry.metrics().then(
      (body) => {
        response.writeHead(200, { "content-type": options.registry.contentType });
        response.end(body);
      },
      (error: Error) => {
        options.logger.error("metrics scrape failed", { error: error.message });
        response.writeHead(500, { "content-type": "application/json" });
        response.end(JSON.stringify({ error: { message: "metrics unavailable" } }));
      },
    );
  });
  server.listen(options.port, options.host);
  await once(server, "listening");
  const { address, port } = server.address() as AddressInfo;
  const host = address.includes(":") ? `[${address}]` : address;
  return {
    server,
    url: `http://${host}:${port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        // A scraper's keep-alive connection must not hold the shutdown open.
        server.closeAllConnections();
      }),
  };
}
