import type { Server } from "node:http";
import { type ServerType, serve } from "@hono/node-server";
import type { ApiEnv } from "../env.ts";

type ServerEnv = Pick<
  ApiEnv,
  "HOST" | "PORT" | "HEADERS_TIMEOUT_MS" | "REQUEST_TIMEOUT_MS" | "KEEP_ALIVE_TIMEOUT_MS"
>;

/**
 * Serves the API with Node's HTTP server, with limits on slow clients: a client that has not
 * sent its whole header block within HEADERS_TIMEOUT_MS, or its whole request (body included)
 * within REQUEST_TIMEOUT_MS, gets 408 and the connection is closed (Node's defaults, 60 s and
 * 300 s, let a few hundred idle sockets hold the process). Both are about receiving the request:
 * a long answer (a live notification stream, a download) is not cut.
 */
export function serveApi(
  fetch: (request: Request) => Response | Promise<Response>,
  env: ServerEnv,
  onListening: (info: { address: string; port: number }) => void,
): ServerType {
  const server = serve(
    {
      fetch,
      hostname: env.HOST,
      port: env.PORT,
      serverOptions: {
        headersTimeout: env.HEADERS_TIMEOUT_MS,
        requestTimeout: env.REQUEST_TIMEOUT_MS,
        keepAliveTimeout: env.KEEP_ALIVE_TIMEOUT_MS,
        // How often Node looks for connections past those limits (30 s by default, which would
        // let a 10 s limit run to 40 s).
        connectionsCheckingInterval: Math.min(1000, Math.ceil(env.HEADERS_TIMEOUT_MS / 4)),
      },
    },
    onListening,
  );
  (server as Server).keepAliveTimeout = env.KEEP_ALIVE_TIMEOUT_MS;
  return server;
}
