import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AuditEvent, AuditLogClient } from "@auditlog/client";

/**
 * A tiny platform service: a few administrative actions over HTTP, each recorded in the
 * organisation's audit log with the SDK. `log.record()` only queues the event (the client
 * batches and retries in the background), so an action never waits on the audit log; it is
 * awaited all the same, so that with `onFull: "block"` a flood of actions is slowed down rather
 * than piling events up in memory.
 */
export function createService(log: AuditLogClient) {
  return createServer((request, response) => {
    handle(log, request, response).catch((error: Error) => {
      reply(response, 500, { error: error.message });
    });
  });
}

async function handle(log: AuditLogClient, request: IncomingMessage, response: ServerResponse) {
  const url = new URL(request.url ?? "/", "http://service.local");
  const actor = {
    type: "user" as const,
    id: header(request, "x-user-id") ?? "usr_demo",
    name: header(request, "x-user") ?? "demo",
  };
  const context = {
    ip: request.socket.remoteAddress?.replace(/^::ffff:/, ""),
    userAgent: header(request, "user-agent")?.slice(0, 1000),
  };
  const record = (event: AuditEvent) => log.record({ ...event, context });

  if (request.method === "GET" && url.pathname === "/healthz") {
    return reply(response, 200, { status: "ok", audit: log.stats() });
  }
  // POST /repos {"name": "acme/bert", "type": "model", "private": true}
  if (request.method === "POST" && url.pathname === "/repos") {
    const body = await readJson(request);
    const name = typeof body.name === "string" ? body.name : "";
    const type = body.type === "dataset" || body.type === "space" ? body.type : "model";
    if (!/^[\w.-]+\/[\w.-]+$/.test(name))
      return reply(response, 400, { error: "name must be owner/name" });
    const eventId = await record({
      type: "repo.create",
      actor,
      target: { type, id: name, name },
      data: { repo: { type, name }, private: body.private === true },
    });
    return reply(response, 201, { repo: { type, name }, eventId });
  }
  // DELETE /repos/acme/bert
  const repo = /^\/repos\/([\w.-]+\/[\w.-]+)$/.exec(url.pathname);
  if (request.method === "DELETE" && repo) {
    const name = repo[1] as string;
    const eventId = await record({
      type: "repo.delete",
      actor,
      target: { type: "model", id: name, name },
      data: { repo: { type: "model", name } },
    });
    return reply(response, 200, { deleted: name, eventId });
  }
  // PUT /members/bob/role {"from": "read", "to": "write"}
  const member = /^\/members\/([\w.-]+)\/role$/.exec(url.pathname);
  if (request.method === "PUT" && member) {
    const body = await readJson(request);
    const roles = ["read", "contributor", "write", "admin"] as const;
    const oldRole = roles.find((role) => role === body.from);
    const newRole = roles.find((role) => role === body.to);
    if (!oldRole || !newRole)
      return reply(response, 400, { error: `from and to must be one of ${roles.join(", ")}` });
    const user = member[1] as string;
    const eventId = await record({
      type: "org.change_role",
      actor,
      target: { type: "user", id: user, name: user },
      data: { user, oldRole, newRole },
    });
    return reply(response, 200, { user, role: newRole, eventId });
  }
  return reply(response, 404, { error: "not found" });
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name];
  return typeof value === "string" && value.length > 0 ? value : undefined;
}

async function readJson(request: IncomingMessage): Promise<Record<string, unknown>> {
  let text = "";
  for await (const chunk of request) {
    text += chunk;
    if (text.length > 64 * 1024) break;
  }
  try {
    const value = JSON.parse(text || "{}") as unknown;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function reply(response: ServerResponse, status: number, body: unknown) {
  response.writeHead(status, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
}
