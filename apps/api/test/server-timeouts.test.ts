import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { connect, createServer, type Socket } from "node:net";
import { join } from "node:path";
import { testDatabaseUrl } from "@auditlog/db/testing";
import { newId } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SseClient } from "./support/sse-client.ts";
import { createMemberWithToken, createOrgWithKey } from "./support/test-stack.ts";

const apiDir = join(import.meta.dirname, "..");
const tsx = join(apiDir, "../../node_modules/.bin/tsx");
const headersTimeoutMs = 600;
const requestTimeoutMs = 1500;
/** Generous: proves the server answers instead of waiting for Node's 60 s and 300 s defaults. */
const bound = 15_000;

async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** What a raw connection got before the server closed it, and how long that took. */
function untilClosed(socket: Socket): Promise<{ received: string; ms: number; closed: boolean }> {
  const started = Date.now();
  let received = "";
  socket.on("data", (chunk: Buffer) => {
    received += chunk.toString("latin1");
  });
  socket.on("error", () => {});
  return new Promise((resolve) => {
    const timer = setTimeout(() => {
      socket.destroy();
      resolve({ received, ms: Date.now() - started, closed: false });
    }, bound);
    socket.on("close", () => {
      clearTimeout(timer);
      resolve({ received, ms: Date.now() - started, closed: true });
    });
  });
}

/**
 * The API as `start` runs it (src/server.ts), with small timeouts, so that slow clients are
 * real clients on a real socket.
 */
describe("the API server: slow clients are cut off, streams are not", () => {
  let server: ChildProcess;
  let port: number;
  const log: string[] = [];

  beforeAll(async () => {
    port = await freePort();
    const suffix = newId("evt").slice(-12);
    server = spawn(tsx, ["src/server.ts"], {
      cwd: apiDir,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        ...process.env,
        HOST: "127.0.0.1",
        PORT: String(port),
        DATABASE_URL: testDatabaseUrl,
        INGEST_QUEUE: `test-timeouts-${suffix}-ingest`,
        EXPORT_QUEUE: `test-timeouts-${suffix}-exports`,
        WEB_DIST_DIR: "",
        LOG_LEVEL: "warn",
        HEADERS_TIMEOUT_MS: String(headersTimeoutMs),
        REQUEST_TIMEOUT_MS: String(requestTimeoutMs),
        INGEST_ADMISSION_WAIT_MS: "500",
      },
    });
    for (const stream of [server.stdout, server.stderr]) {
      stream?.on("data", (chunk: Buffer) => log.push(chunk.toString()));
    }
    const deadline = Date.now() + 60_000;
    for (;;) {
      const up = await fetch(`http://127.0.0.1:${port}/healthz`).then(
        (response) => response.ok,
        () => false,
      );
      if (up) break;
      if (server.exitCode !== null || Date.now() > deadline) {
        throw new Error(`the API did not start:\n${log.join("")}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  });
  afterAll(async () => {
    if (server?.pid !== undefined && server.exitCode === null) {
      const exited = once(server, "exit");
      process.kill(-server.pid, "SIGTERM");
      await exited;
    }
  });

  it("closes a connection whose headers stop halfway, answering 408", async () => {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    socket.write("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Half: ");
    const { received, closed, ms } = await untilClosed(socket);
    expect(closed, `still open after ${ms} ms`).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(headersTimeoutMs - 50);
  });

  it("closes a connection whose body stops halfway, answering 408", async () => {
    const socket = connect(port, "127.0.0.1");
    await once(socket, "connect");
    // Sign-in reads its whole body before anything else.
    socket.write(
      'POST /v1/auth/login HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{"email":',
    );
    const { received, closed, ms } = await untilClosed(socket);
    expect(closed, `still open after ${ms} ms`).toBe(true);
    expect(received).toMatch(/^HTTP\/1\.1 408 /);
    expect(ms).toBeGreaterThanOrEqual(requestTimeoutMs - 600);
  });

  it("keeps a live notification stream open longer than the request timeout", async () => {
    const { org } = await createOrgWithKey("team", "timeouts-sse");
    const member = await createMemberWithToken(org.slug, "admin");
    const client = await SseClient.open(
      `http://127.0.0.1:${port}/v1/notifications/stream`,
      member.token,
    );
    try {
      expect(client.status).toBe(200);
      await client.waitForEvent("ready");
      await new Promise((resolve) => setTimeout(resolve, requestTimeoutMs * 2 + 1000));
      expect(client.hasEnded).toBe(false);
    } finally {
      client.close();
    }
  });
});
