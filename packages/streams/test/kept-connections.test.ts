import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import { type StreamDestination, streamDestinationSchema } from "@auditlog/events";
import { afterEach, describe, expect, it } from "vitest";
import { createDestinationSender, type SenderDeps, type StreamBatch } from "../src/index.ts";
import { makeStreamEntries } from "./support/index.ts";

// A stream's turn sends batch after batch to one receiver: over one kept connection, not a
// connection per batch. These receivers count connections and can drop a kept one.

// A Standard Webhooks secret for https; any token for Splunk and Datadog.
const secret = `whsec_${Buffer.alloc(24, 7).toString("base64")}`;
const deps: SenderDeps = { allowLocal: true, timeoutMs: 10_000 };
const org = { id: "org_test1", slug: "acme" };
const batch = (from: number): StreamBatch => ({
  streamId: "str_kept1",
  org,
  entries: makeStreamEntries(20, from),
});

interface CountingReceiver {
  origin: string;
  connections: number;
  requests: number;
  /** Sockets the receiver has open now. */
  open: Set<Socket>;
  server: Server;
}

/** Answers every request as all three HTTP receivers accept it (2xx, and HEC's code 0). */
async function startReceiver(
  onRequest?: (req: IncomingMessage, res: ServerResponse, receiver: CountingReceiver) => boolean,
): Promise<CountingReceiver> {
  const receiver = { origin: "", connections: 0, requests: 0, open: new Set<Socket>() } as
    | CountingReceiver
    | Omit<CountingReceiver, "server">;
  const server = createServer((req, res) => {
    const handled = onRequest?.(req, res, receiver as CountingReceiver) ?? false;
    if (handled) return;
    req.resume();
    req.on("end", () => {
      receiver.requests++;
      res.writeHead(200, { "content-type": "application/json" });
      res.end('{"text":"Success","code":0}');
    });
  });
  server.on("connection", (socket: Socket) => {
    receiver.connections++;
    receiver.open.add(socket);
    socket.on("close", () => receiver.open.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return Object.assign(receiver, { origin: `http://127.0.0.1:${port}`, server });
}

/** Polls `done` until it holds; fails the test (never returns quietly) at the deadline. */
async function until(what: string, done: () => boolean, deadlineMs = 5_000) {
  const deadline = Date.now() + deadlineMs;
  while (!done()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});

const destinations = (origin: string): StreamDestination[] =>
  [
    { type: "https", url: `${origin}/hooks/audit` },
    { type: "splunk", url: origin },
    { type: "datadog", url: origin },
  ].map((destination) => streamDestinationSchema.parse(destination));

describe("kept connections", () => {
  it("sends a sender's batches over one connection, and close() ends it", async () => {
    const receiver = await startReceiver();
    servers.push(receiver.server);
    const sender = createDestinationSender(
      { type: "https", url: `${receiver.origin}/hooks/audit` },
      null,
      deps,
    );
    for (let i = 0; i < 5; i++) {
      expect(await sender.send(batch(1 + 20 * i))).toEqual({ kind: "delivered", status: 200 });
    }
    expect(receiver.requests).toBe(5);
    expect(receiver.connections).toBe(1);
    expect(receiver.open.size).toBe(1);
    sender.close?.();
    await until("the kept connection to close", () => receiver.open.size === 0);
    // A send after close opens a new connection (nothing refuses it).
    expect((await sender.send(batch(101))).kind).toBe("delivered");
    expect(receiver.connections).toBe(2);
    sender.close?.();
  });

  it("keeps one connection per sender for Splunk HEC and Datadog as well", async () => {
    const receiver = await startReceiver();
    servers.push(receiver.server);
    for (const destination of destinations(receiver.origin).slice(1)) {
      const before = receiver.connections;
      const sender = createDestinationSender(destination, secret, deps);
      for (let i = 0; i < 3; i++) {
        expect((await sender.send(batch(1 + 20 * i))).kind, destination.type).toBe("delivered");
      }
      expect(receiver.connections - before, destination.type).toBe(1);
      sender.close?.();
    }
    await until("every kept connection to close", () => receiver.open.size === 0);
  });

  it("sends again on a new connection when the receiver dropped the kept one", async () => {
    // The receiver takes one request per connection, then drops the connection as the next
    // request on it arrives, unanswered: the sender meets a reset on a connection it reused.
    const served = new WeakMap<Socket, number>();
    let dropped = 0;
    const receiver = await startReceiver((req) => {
      const count = served.get(req.socket) ?? 0;
      served.set(req.socket, count + 1);
      if (count === 0) return false;
      dropped++;
      req.socket.destroy();
      return true;
    });
    servers.push(receiver.server);
    for (const destination of destinations(receiver.origin)) {
      const sender = createDestinationSender(destination, secret, deps);
      const before = receiver.requests;
      for (let i = 0; i < 4; i++) {
        expect(await sender.send(batch(1 + 20 * i)), destination.type).toMatchObject({
          kind: "delivered",
        });
      }
      expect(receiver.requests - before, destination.type).toBe(4);
      sender.close?.();
    }
    // Per sender: batch 1 opens the kept connection, batch 2 meets it dropped and goes on a
    // connection of its own, batch 3 opens a kept one again, batch 4 meets it dropped.
    expect(dropped).toBe(6);
  });
});
