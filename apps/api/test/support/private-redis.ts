import { type ChildProcess, spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { connect, createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";

/** A port nothing listens on right now (the OS picks it). */
export async function freePort(): Promise<number> {
  const server = createServer();
  server.listen(0, "127.0.0.1");
  await once(server, "listening");
  const address = server.address();
  const port = typeof address === "object" && address ? address.port : 0;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * True when a Redis server on the port answers PING with PONG (not while it loads its data:
 * then it answers -LOADING).
 */
export function answersPing(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, "127.0.0.1");
    let reply = "";
    socket.setTimeout(1000, () => socket.destroy());
    socket.on("connect", () => socket.write("PING\r\n"));
    socket.on("data", (chunk: Buffer) => {
      reply += chunk.toString("utf8");
      if (reply.includes("\r\n")) socket.end();
    });
    socket.on("error", () => {});
    socket.on("close", () => resolve(reply.startsWith("+PONG")));
  });
}

export interface PrivateRedisOptions {
  /**
   * Keep an append-only file (`appendfsync everysec`, the setting our scripts use) in a data
   * directory of its own, so a restart after a SIGKILL finds what was acknowledged.
   */
  appendOnly?: boolean;
  /** More `redis-server` arguments (`--maxmemory-policy`, `--rename-command` …). */
  args?: string[];
  /** Start from a configuration file (`redis.conf` in its directory, empty at first). */
  configFile?: boolean;
}

/**
 * A throwaway Redis server of the test's own (own port, own directory), so a fault test can kill
 * it with SIGKILL, freeze it and start it again without touching the shared one. Without
 * `appendOnly` it saves nothing: a restart comes back empty.
 */
export async function startPrivateRedis(options: PrivateRedisOptions = {}) {
  const port = await freePort();
  const dir = mkdtempSync(join(tmpdir(), "auditlog-redis-"));
  const persistence = options.appendOnly
    ? ["--appendonly", "yes", "--appendfsync", "everysec"]
    : ["--appendonly", "no"];
  const configFile = join(dir, "redis.conf");
  // Its own log, which a failing fault test quotes (an AOF write held back on a slow disk …).
  const logFile = join(dir, "redis.log");
  if (options.configFile) writeFileSync(configFile, "");
  let child: ChildProcess | null = null;

  async function start(): Promise<void> {
    const server = spawn(
      "redis-server",
      [
        ...(options.configFile ? [configFile] : []),
        "--port",
        String(port),
        "--bind",
        "127.0.0.1",
        "--dir",
        dir,
        "--save",
        "",
        "--logfile",
        logFile,
        ...persistence,
        ...(options.args ?? []),
      ],
      { stdio: "ignore" },
    );
    child = server;
    const deadline = Date.now() + 30_000;
    while (!(await answersPing(port))) {
      if (server.exitCode !== null) throw new Error(`redis-server exited (${server.exitCode})`);
      if (Date.now() > deadline) throw new Error(`redis-server did not answer on port ${port}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: the server vanishes without closing or flushing anything, as in a crash. */
  async function kill(): Promise<void> {
    const server = child;
    child = null;
    if (!server || server.exitCode !== null || server.signalCode !== null) return;
    const exited = once(server, "exit");
    server.kill("SIGKILL");
    await exited;
  }

  /** SIGSTOP: the server keeps its connections open and answers nothing, as a frozen host. */
  function freeze(): void {
    child?.kill("SIGSTOP");
  }

  /** SIGCONT: a frozen server carries on, answering everything it was sent meanwhile. */
  function thaw(): void {
    child?.kill("SIGCONT");
  }

  await start();
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    dir,
    configFile,
    /** The server's log so far, across restarts (empty when it wrote none). */
    log(): string {
      try {
        return readFileSync(logFile, "utf8");
      } catch {
        return "";
      }
    },
    start,
    kill,
    freeze,
    thaw,
    async destroy() {
      thaw();
      await kill();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
