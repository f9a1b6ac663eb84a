import { type ChildProcess, spawn } from "node:child_process";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
// The client package's test stack: the real API and worker processes, and the test database.
import {
  freePort,
  repoRoot,
  type Stack,
  startStack,
  waitFor,
} from "../../../packages/client/test/support/stack.ts";

/**
 * The example service as its README runs it (`pnpm start`, i.e. tsx src/main.ts), against the
 * real API: each action it serves is stored in the organisation's audit log, with its type's
 * data, and a SIGTERM flushes what is left before the service exits.
 */
describe("examples/node-service", () => {
  let stack: Stack;
  let service: ChildProcess;
  let url: string;
  let output = "";

  beforeAll(async () => {
    stack = await startStack();
    await stack.api.start();
    stack.worker.start();
    const port = await freePort();
    url = `http://127.0.0.1:${port}`;
    service = spawn(process.execPath, ["--import", "tsx", "examples/node-service/src/main.ts"], {
      cwd: repoRoot,
      env: {
        PATH: process.env.PATH,
        AUDITLOG_URL: stack.url,
        AUDITLOG_API_KEY: stack.apiKey,
        PORT: String(port),
      },
      stdio: ["ignore", "pipe", "inherit"],
    });
    service.stdout?.on("data", (chunk: Buffer) => {
      output += chunk.toString("utf8");
    });
    await waitFor(
      () => output,
      (text) => text.includes("listening"),
    );
  });
  afterAll(async () => {
    if (service.exitCode === null && service.signalCode === null) service.kill("SIGKILL");
    await stack?.close();
  });

  it("records an audit event per action, and flushes them when stopped", async () => {
    const call = async (method: string, path: string, body?: unknown) => {
      const response = await fetch(`${url}${path}`, {
        method,
        headers: {
          "content-type": "application/json",
          "x-user": "alice",
          "x-user-id": "usr_alice",
        },
        ...(body === undefined ? {} : { body: JSON.stringify(body) }),
      });
      return { status: response.status, body: (await response.json()) as { eventId?: string } };
    };
    const answers = [
      await call("POST", "/repos", { name: "acme/bert", type: "model" }),
      await call("PUT", "/members/bob/role", { from: "read", to: "write" }),
      await call("DELETE", "/repos/acme/bert"),
    ];
    expect(answers.map((answer) => answer.status)).toEqual([201, 200, 200]);
    expect((await call("PUT", "/members/bob/role", { from: "read", to: "owner" })).status).toBe(
      400,
    );
    const ids = answers.map((answer) => answer.body.eventId);
    for (const id of ids) expect(id).toMatch(/^evt_[0-9a-f]{24}$/);

    // Whatever still waits for its batch is sent on SIGTERM, before the service exits 0.
    const exited = new Promise<number | null>((resolve) => service.once("exit", resolve));
    service.kill("SIGTERM");
    expect(await exited).toBe(0);
    expect(output).toMatch(/audit events: .*"acknowledged":3/);

    await stack.waitForStored(3);
    const rows = await stack.query<{ id: string; type: string; description: string }>(
      "SELECT id, type, description FROM audit_entries WHERE org_id = $1 ORDER BY type",
      [stack.orgId],
    );
    console.log("[example service]", JSON.stringify(rows));
    expect(rows.map((row) => row.id).sort()).toEqual([...ids].sort());
    expect(rows.map((row) => row.type)).toEqual(["org.change_role", "repo.create", "repo.delete"]);
    expect(rows[0]?.description).toBe("alice changed bob's role from read to write");
  });
});
