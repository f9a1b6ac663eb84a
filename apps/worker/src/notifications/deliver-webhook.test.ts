import diagnostics from "node:diagnostics_channel";
import { createServer, type IncomingHttpHeaders } from "node:http";
import type { AddressInfo, Socket } from "node:net";
import type { NotifyWebhookJob } from "@auditlog/events/jobs";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { forbidSystemDns, scriptedResolver } from "../testing.ts";
import { deliverWebhook } from "./deliver-webhook.ts";

const job: NotifyWebhookJob = {
  messageId: "ntf_test",
  orgId: "org_test",
  payload: {
    type: "export.ready",
    timestamp: "2026-12-01T00:00:00.000Z",
    data: {
      exportId: "exp_test",
      org: "acme",
      format: "csv",
      status: "ready",
      rowsWritten: 1,
      fileSize: 10,
      error: null,
    },
  },
};
const secret = `whsec_${Buffer.alloc(32, 7).toString("base64")}`;

/** Every client socket this process creates: a refused delivery must create none. */
const sockets: Socket[] = [];
const onSocket = (message: unknown) => sockets.push((message as { socket: Socket }).socket);

interface Received {
  url: string;
  headers: IncomingHttpHeaders;
}

describe("deliverWebhook: the address it connects to", () => {
  const systemDns = forbidSystemDns();
  const received: Received[] = [];
  const server = createServer((req, res) => {
    received.push({ url: req.url ?? "/", headers: req.headers });
    req.resume();
    if (req.url === "/slow") return; // never answers
    if (req.url === "/redirect") {
      res.writeHead(302, { location: `http://127.0.0.1:${port()}/elsewhere` }).end();
      return;
    }
    res.writeHead(200).end("ok");
  });
  const port = () => (server.address() as AddressInfo).port;

  beforeAll(async () => {
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    diagnostics.subscribe("net.client.socket", onSocket);
  });
  beforeEach(() => {
    sockets.length = 0;
  });
  afterAll(async () => {
    diagnostics.unsubscribe("net.client.socket", onSocket);
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
    systemDns.restore();
  });

  const deliver = (url: string, allowLocal: boolean, lookup = scriptedResolver({})) =>
    deliverWebhook({ url, secret, job, timeoutMs: 5000, allowLocal, lookup: lookup.lookup });

  it.each([
    ["https://10.0.0.1/hook", false],
    ["https://127.0.0.1/hook", false],
    ["https://[fd00::1]/hook", false],
    ["https://[64:ff9b::a00:1]/hook", false],
    ["http://127.0.0.1:6379/", false],
    ["https://169.254.169.254/latest/meta-data/", true],
    ["https://[fd00:ec2::254]/latest/meta-data/", true],
    ["https://[::ffff:a9fe:a9fe]/", true],
    ["https://100.100.100.200/", true],
    ["https://[fe80::1]/", true],
  ])(
    "refuses %s (local URLs allowed: %s) before any DNS question or socket",
    async (url, allowLocal) => {
      const resolver = scriptedResolver({});
      const outcome = await deliver(url, allowLocal, resolver);
      expect(outcome).toMatchObject({ kind: "refused" });
      expect(resolver.calls).toEqual([]);
      expect(sockets).toEqual([]);
    },
  );

  it.each([
    ["internal.test", [["10.0.0.1"]], false],
    ["v6-internal.test", [["fd12::1"]], false],
    ["mixed.test", [["93.184.215.14", "10.0.0.1"]], false],
    ["rebind.test", [["127.0.0.1"]], false],
    ["metadata.google.internal", [["169.254.169.254"]], true],
    ["mixed-metadata.test", [["127.0.0.1", "169.254.169.254"]], true],
  ])(
    "refuses %s when an address it resolves to is refused, without a socket",
    async (name, answers, allowLocal) => {
      const resolver = scriptedResolver({ [name]: answers });
      const outcome = await deliver(`https://${name}/hook`, allowLocal, resolver);
      expect(outcome).toMatchObject({ kind: "refused" });
      expect((outcome as { reason: string }).reason).not.toMatch(/10\.0\.0\.1|169\.254|fd12/);
      expect(resolver.calls).toEqual([name]);
      expect(sockets).toEqual([]);
    },
  );

  it("retries a name that does not resolve, without a socket", async () => {
    const resolver = scriptedResolver({});
    const outcome = await deliver("https://gone.test/hook", false, resolver);
    expect(outcome).toMatchObject({ kind: "retry", reason: expect.stringMatching(/ENOTFOUND/) });
    expect(resolver.calls).toEqual(["gone.test"]);
    expect(sockets).toEqual([]);
  });

  it("asks once and connects to the address it checked, keeping the name, path and query", async () => {
    // A second question would answer 127.0.0.2, where nothing listens.
    const resolver = scriptedResolver({ localhost: [["127.0.0.1"], ["127.0.0.2"]] });
    const outcome = await deliver(`http://localhost:${port()}/hooks/a?team=1`, true, resolver);
    expect(outcome).toEqual({ kind: "delivered", status: 200 });
    expect(resolver.calls).toEqual(["localhost"]);
    expect(sockets).toHaveLength(1);
    const hit = received.find((r) => r.url === "/hooks/a?team=1");
    expect(hit?.headers.host).toBe(`localhost:${port()}`);
    expect(hit?.headers["webhook-id"]).toBe("ntf_test");
  });

  it("does not follow a redirect", async () => {
    const outcome = await deliver(`http://127.0.0.1:${port()}/redirect`, true);
    expect(outcome).toEqual({ kind: "retry", reason: "receiver answered 302" });
    expect(received.filter((r) => r.url === "/elsewhere")).toEqual([]);
  });

  it("gives up at the time limit", async () => {
    const started = Date.now();
    const outcome = await deliverWebhook({
      url: `http://127.0.0.1:${port()}/slow`,
      secret,
      job,
      timeoutMs: 300,
      allowLocal: true,
      lookup: scriptedResolver({}).lookup,
    });
    expect(outcome).toEqual({ kind: "retry", reason: "no answer within 300 ms" });
    // Generous: proves it answers instead of hanging, not how fast.
    expect(Date.now() - started).toBeLessThan(10_000);
  });

  it("asked the machine's own resolver nothing", () => {
    expect(systemDns.attempted).toEqual([]);
  });
});
