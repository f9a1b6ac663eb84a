import type { IncomingHttpHeaders } from "node:http";
import type { AuditEntry } from "@auditlog/events";
import { Webhook } from "standardwebhooks";
import { type Answer, ReceiverServer } from "./receiver-server.ts";

export interface ReceivedMessage {
  id: string;
  type: string;
  timestamp: string;
  org: { id: string; slug: string };
  streamId: string;
  entries: AuditEntry[];
  test?: boolean;
}

/**
 * An https stream receiver that checks each message with the `standardwebhooks` package (not our
 * signer): `Webhook.verify` with the `whsec_` secret (bad or missing signature, or a timestamp
 * off by more than 5 minutes: 401), then the body shape `{ type: "audit_log.entries", timestamp,
 * data: { org, streamId, entries } }` (else 400). Plain http on 127.0.0.1: the senders reach it
 * with WEBHOOK_ALLOW_LOCAL_URLS.
 */
export class WebhookReceiver extends ReceiverServer {
  readonly messages: ReceivedMessage[] = [];
  private readonly verifier: Webhook;

  constructor(readonly secret: string) {
    super();
    this.verifier = new Webhook(secret);
  }

  protected failureAnswer(status: number): Answer {
    return { status, body: JSON.stringify({ error: "scripted failure" }) };
  }

  protected handle(request: {
    method: string;
    path: string;
    headers: IncomingHttpHeaders;
    body: Buffer;
  }) {
    if (request.method !== "POST") return { answer: { status: 405 } };
    const headers: Record<string, string> = {};
    for (const name of ["webhook-id", "webhook-timestamp", "webhook-signature"]) {
      const value = request.headers[name];
      if (typeof value === "string") headers[name] = value;
    }
    let payload: unknown;
    try {
      payload = this.verifier.verify(request.body.toString("utf8"), headers);
    } catch (error) {
      return { answer: { status: 401, body: JSON.stringify({ error: (error as Error).message }) } };
    }
    const message = payload as {
      type?: unknown;
      timestamp?: unknown;
      data?: {
        org?: { id?: unknown; slug?: unknown };
        streamId?: unknown;
        entries?: unknown;
        test?: unknown;
      };
    };
    const data = message.data;
    const entries = data?.entries;
    if (
      message.type !== "audit_log.entries" ||
      typeof message.timestamp !== "string" ||
      typeof data?.org?.id !== "string" ||
      typeof data.org.slug !== "string" ||
      typeof data.streamId !== "string" ||
      !Array.isArray(entries) ||
      entries.some((e) => typeof e?.id !== "string" || typeof e?.seq !== "number")
    ) {
      return {
        answer: {
          status: 400,
          body: JSON.stringify({ error: "not an audit_log.entries message" }),
        },
      };
    }
    this.messages.push({
      id: headers["webhook-id"] ?? "",
      type: message.type,
      timestamp: message.timestamp,
      org: { id: data.org.id, slug: data.org.slug },
      streamId: data.streamId,
      entries: entries as AuditEntry[],
      ...(data.test === true ? { test: true } : {}),
    });
    return { answer: { status: 204 }, accepted: entries as AuditEntry[] };
  }
}
