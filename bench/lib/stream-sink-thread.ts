import { createServer, type Server } from "node:http";
import { type AddressInfo, createServer as createNetServer, type Socket } from "node:net";
import { parentPort } from "node:worker_threads";
import type { AlertMessage, SinkDelivery, SinkReply, SinkRequest } from "./streams.ts";

/*
 * The streams phase's receiver, on a thread of the bench's process (`startStreamSink` starts it).
 * Ten streams send it about 10 KiB per committed event, and every socket read is a new 64 KiB
 * buffer outside V8's heap: on the main thread those buffers set off full collections of the
 * main thread's heap (the load generator's, the samplers'), which cost the bench's process more
 * than the reading itself. A thread has a heap of its own, a few megabytes. Its CPU is still
 * the bench's process's, so it is counted as before.
 */

const deliveries: SinkDelivery[] = [];
const alerts: AlertMessage[] = [];
const port = parentPort;
if (!port) throw new Error("stream-sink-thread runs as a worker thread");

const batches = await startBatchSink((id) => {
  const match = /^(.+)_(\d+)-(\d+)$/.exec(id);
  if (!match) return false;
  deliveries.push({
    streamId: match[1] as string,
    first: Number(match[2]),
    last: Number(match[3]),
    at: Date.now(),
  });
  return true;
});
const alertServer: Server = createServer((req, res) => {
  if (req.url !== "/alerts") {
    req.resume();
    res.writeHead(404).end();
    return;
  }
  const chunks: Buffer[] = [];
  req.on("data", (chunk: Buffer) => chunks.push(chunk));
  req.on("end", () => {
    const at = Date.now();
    try {
      const message = JSON.parse(Buffer.concat(chunks).toString("utf8")) as {
        type?: string;
        data?: { matched?: number; grouped?: boolean; entry?: { seq?: number } | null };
      };
      alerts.push({
        seq: message.data?.entry?.seq ?? null,
        matched: message.data?.matched ?? 0,
        grouped: message.data?.grouped === true,
        at,
      });
      res.writeHead(204).end();
    } catch {
      res.writeHead(400).end();
    }
  });
});
await new Promise<void>((resolve) => alertServer.listen(0, "127.0.0.1", resolve));

const reply = (message: SinkReply) => port.postMessage(message);
port.on("message", async (request: SinkRequest) => {
  if (request.type === "collect") {
    reply({ type: "collected", deliveries, alerts });
    return;
  }
  await batches.close();
  await new Promise<void>((resolve) => {
    alertServer.closeAllConnections();
    alertServer.close(() => resolve());
  });
  reply({ type: "closed" });
  port.close();
});
reply({
  type: "ready",
  batchPort: batches.port,
  alertsPort: (alertServer.address() as AddressInfo).port,
});

const noContent = Buffer.from("HTTP/1.1 204 No Content\r\n\r\n");
const badRequest = Buffer.from(
  "HTTP/1.1 400 Bad Request\r\ncontent-length: 0\r\nconnection: close\r\n\r\n",
);

/**
 * A bare HTTP/1.1 POST reader: per request, the head (up to the blank line) is read for
 * `content-length` and `webhook-id`, that many body bytes are skipped, and 204 is answered when
 * `accept(webhookId)` takes the message (400, and the connection closed, otherwise or without a
 * length: the senders always send one). Connections are kept between requests.
 */
async function startBatchSink(accept: (webhookId: string) => boolean) {
  const sockets = new Set<Socket>();
  const server = createNetServer((socket) => {
    sockets.add(socket);
    socket.on("close", () => sockets.delete(socket));
    socket.on("error", () => {});
    let head = "";
    let bodyLeft = -1;
    let ok = true;
    socket.on("data", (chunk: Buffer) => {
      let at = 0;
      while (at < chunk.length) {
        if (bodyLeft < 0) {
          const end = chunk.indexOf("\r\n\r\n", at, "latin1");
          if (end < 0 || head.length > 0) {
            // A head split across reads: gathered as text until its blank line.
            head += chunk.toString("latin1", at);
            const blank = head.indexOf("\r\n\r\n");
            if (blank < 0) return;
            at = chunk.length - (head.length - blank - 4);
            ({ bodyLeft, ok } = readHead(head.slice(0, blank), accept));
            head = "";
          } else {
            ({ bodyLeft, ok } = readHead(chunk.toString("latin1", at, end), accept));
            at = end + 4;
          }
          if (!ok || bodyLeft < 0) {
            socket.end(badRequest);
            return;
          }
        }
        const take = Math.min(bodyLeft, chunk.length - at);
        bodyLeft -= take;
        at += take;
        if (bodyLeft === 0) {
          bodyLeft = -1;
          socket.write(noContent);
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    close: () =>
      new Promise<void>((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}

function readHead(
  head: string,
  accept: (webhookId: string) => boolean,
): { bodyLeft: number; ok: boolean } {
  const length = /\r\ncontent-length:[ \t]*(\d+)/i.exec(head);
  const id = /\r\nwebhook-id:[ \t]*([^\r]*)/i.exec(head);
  if (!length) return { bodyLeft: -1, ok: false };
  return { bodyLeft: Number(length[1]), ok: accept((id?.[1] ?? "").trim()) };
}
