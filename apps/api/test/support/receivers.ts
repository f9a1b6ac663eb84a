import { createHmac, timingSafeEqual } from "node:crypto";
import { createServer, type IncomingHttpHeaders, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { SMTPServer } from "smtp-server";

/**
 * Receivers of the protocols notifications speak, started by tests on 127.0.0.1: an org webhook
 * receiver (Standard Webhooks), an SMTP server, and a Slack-compatible incoming webhook.
 */

/**
 * The receiver's side of Standard Webhooks, written from the specification rather than imported,
 * so a signing bug cannot verify itself: HMAC-SHA256 keyed with the base64-decoded part of
 * `whsec_…`, over `${webhook-id}.${webhook-timestamp}.${body}`, compared with each `v1,` entry.
 */
export function verifyStandardWebhook(secret: string, headers: IncomingHttpHeaders, body: string) {
  const id = headers["webhook-id"];
  const timestamp = headers["webhook-timestamp"];
  const signatures = headers["webhook-signature"];
  if (typeof id !== "string" || typeof timestamp !== "string" || typeof signatures !== "string") {
    return false;
  }
  if (!/^\d+$/.test(timestamp) || Math.abs(Date.now() / 1000 - Number(timestamp)) > 300) {
    return false;
  }
  const key = Buffer.from(secret.replace(/^whsec_/, ""), "base64");
  const expected = createHmac("sha256", key).update(`${id}.${timestamp}.${body}`).digest();
  return signatures.split(" ").some((entry) => {
    const [version, value] = entry.split(",");
    if (version !== "v1" || !value) return false;
    const given = Buffer.from(value, "base64");
    return given.length === expected.length && timingSafeEqual(given, expected);
  });
}

export interface ReceivedHook {
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
  at: number;
}

/** A local webhook receiver: answers each path from its script of statuses (then 200). */
export async function startReceiver(scripts: Record<string, number[]>) {
  const received: ReceivedHook[] = [];
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      received.push({ path, headers: req.headers, body: Buffer.concat(chunks).toString(), at });
      const status = scripts[path]?.shift() ?? 200;
      res.writeHead(status, { "content-type": "text/plain" }).end(String(status));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedMail {
  from: string | undefined;
  to: string[];
  raw: string;
}

/** A local SMTP server that accepts every message and keeps it. */
export async function startSmtpServer() {
  const messages: ReceivedMail[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ["STARTTLS"],
    logger: false,
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on("data", (chunk: Buffer) => chunks.push(chunk));
      stream.on("end", () => {
        const mailFrom = session.envelope.mailFrom;
        messages.push({
          from: mailFrom ? mailFrom.address : undefined,
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks).toString(),
        });
        callback();
      });
    },
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  const { port } = server.server.address() as AddressInfo;
  return {
    port,
    messages,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

export interface ReceivedSlackMessage {
  path: string;
  text: string;
  at: number;
}

/**
 * A Slack-compatible incoming webhook, as Slack documents it: a POST with
 * `Content-Type: application/json` and a JSON body whose `text` is the message (mrkdwn). It
 * answers 200 "ok"; a wrong content type or a body without `text` gets 400 "invalid_payload"
 * (and is kept in `refused`), a path scripted with statuses answers those first.
 */
export async function startSlackReceiver(scripts: Record<string, number[]> = {}) {
  const received: ReceivedSlackMessage[] = [];
  const refused: string[] = [];
  const attempts: Array<{ path: string; at: number }> = [];
  const server: Server = createServer((req, res) => {
    const at = Date.now();
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => chunks.push(chunk));
    req.on("end", () => {
      const path = req.url ?? "/";
      attempts.push({ path, at });
      const scripted = scripts[path]?.shift();
      if (scripted !== undefined) {
        res.writeHead(scripted, { "content-type": "text/plain" }).end(String(scripted));
        return;
      }
      const body = Buffer.concat(chunks).toString();
      let text: unknown;
      try {
        text = (JSON.parse(body) as { text?: unknown }).text;
      } catch {
        text = undefined;
      }
      const contentType = String(req.headers["content-type"] ?? "")
        .split(";")[0]
        ?.trim();
      if (
        req.method !== "POST" ||
        contentType !== "application/json" ||
        typeof text !== "string" ||
        !text
      ) {
        refused.push(body);
        res.writeHead(400, { "content-type": "text/plain" }).end("invalid_payload");
        return;
      }
      received.push({ path, text, at });
      res.writeHead(200, { "content-type": "text/plain" }).end("ok");
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: (path: string) => `http://127.0.0.1:${port}${path}`,
    received,
    refused,
    attempts,
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}
