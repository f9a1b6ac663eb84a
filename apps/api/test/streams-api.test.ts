import { execFile } from "node:child_process";
import { mkdtempSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { createOrganization, type Plan } from "@auditlog/db";
import { createTestPool, testDatabaseUrl, uniqueSlug } from "@auditlog/db/testing";
import { streamListSchema, streamSchema, streamTestResultSchema } from "@auditlog/events";
import { SplunkHecReceiver } from "@auditlog/streams/testing";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { maxStreamsPerOrg } from "../src/streams/stream-service.ts";
import { createMemberWithToken, entryRow, insertRows, startTestApi } from "./support/test-stack.ts";

type Stack = Awaited<ReturnType<typeof startTestApi>>;

const apiDir = fileURLToPath(new URL("..", import.meta.url));
const run = promisify(execFile);

interface QueuedEvent {
  type: string;
  actor: { type: string; id: string; name: string };
  data: Record<string, unknown>;
  target?: { type: string; id: string; name?: string };
}

interface ErrorAnswer {
  error: { code: string; message: string; details?: { path: string; message: string }[] };
}

const splunkToken = "hec-token-5f1e2d3c4b5a69788796";
const splunk = (overrides: Record<string, unknown> = {}) => ({
  type: "splunk",
  url: "https://splunk.example.com:8088",
  token: splunkToken,
  index: "audit",
  ...overrides,
});

describe("log streams: /v1/orgs/:org/streams", () => {
  let stack: Stack;
  const pool = createTestPool();

  beforeAll(async () => {
    stack = await startTestApi();
  });
  afterAll(async () => {
    await stack?.services.close();
    await pool.end();
  });

  async function newOrg(label: string, plan: Plan = "team") {
    const org = await createOrganization(stack.services.db, {
      slug: uniqueSlug(label),
      name: label,
      plan,
    });
    const admin = await createMemberWithToken(org.slug, "admin");
    return { org, token: admin.token };
  }

  async function call(
    path: string,
    token: string | null,
    init: { method?: "GET" | "POST" | "PATCH" | "DELETE"; body?: unknown } = {},
  ) {
    const response = await stack.app.request(path, {
      method: init.method ?? "GET",
      headers: {
        ...(token ? { authorization: `Bearer ${token}` } : {}),
        ...(init.body === undefined ? {} : { "content-type": "application/json" }),
      },
      ...(init.body === undefined ? {} : { body: JSON.stringify(init.body) }),
    });
    const text = await response.text();
    return { status: response.status, text, body: text ? JSON.parse(text) : null };
  }
  const streams = (slug: string) => `/v1/orgs/${slug}/streams`;
  const create = (slug: string, token: string, body: unknown) =>
    call(streams(slug), token, { method: "POST", body });

  /** The body must be refused with a 400 whose details name `field`. */
  async function expectRefused(
    slug: string,
    token: string,
    body: unknown,
    field: string,
    init: { method?: "POST" | "PATCH"; path?: string } = {},
  ) {
    const answer = await call(init.path ?? streams(slug), token, {
      method: init.method ?? "POST",
      body,
    });
    expect(answer.status, `${JSON.stringify(body)} → ${answer.text}`).toBe(400);
    const error = (answer.body as ErrorAnswer).error;
    expect(error.code).toBe("validation_failed");
    expect(error.details?.map((detail) => detail.path)).toContain(field);
    return error;
  }

  /** What the API queued for the organisation's log (no worker runs: the jobs stay waiting). */
  async function recorded(orgId: string): Promise<QueuedEvent[]> {
    const jobs = await stack.services.ingestQueue.getJobs(["wait", "delayed", "active"]);
    return jobs
      .filter((job) => job.data.orgId === orgId)
      .sort((a, b) => Number(a.timestamp) - Number(b.timestamp))
      .flatMap((job) => job.data.events as QueuedEvent[])
      .filter((event) => event.type.startsWith("org.audit_log.stream."));
  }

  async function storedRow(id: string) {
    const { rows } = await pool.query<{ row: string; secret_sealed: string; secret_hint: string }>(
      "SELECT row_to_json(s)::text AS row, secret_sealed, secret_hint FROM log_streams s WHERE id = $1",
      [id],
    );
    const row = rows[0];
    if (!row) throw new Error(`no log_streams row ${id}`);
    return row;
  }

  it("creates a Splunk stream whose answers and row never hold the token, only its hint and the sealed text", async () => {
    const { org, token } = await newOrg("str-create");
    const created = await create(org.slug, token, {
      name: "Splunk (SOC)",
      destination: splunk(),
      q: "type:org.* category:audit_log",
    });
    expect(created.status, created.text).toBe(201);
    const stream = streamSchema.parse(created.body);
    expect(stream).toMatchObject({
      name: "Splunk (SOC)",
      destination: {
        type: "splunk",
        url: "https://splunk.example.com:8088",
        index: "audit",
        sourcetype: "auditlog",
      },
      secretHint: splunkToken.slice(-4),
      q: "type:org.* category:audit_log",
      state: "active",
      deliveredSeq: 0,
      lag: { entries: 0, seconds: 0 },
      lastError: null,
    });
    expect(stream.id).toMatch(/^str_/);
    expect(created.text).not.toContain(splunkToken);
    expect(created.body).not.toHaveProperty("signingSecret");

    const read = await call(`${streams(org.slug)}/${stream.id}`, token);
    expect(read.status).toBe(200);
    expect(read.text).not.toContain(splunkToken);
    expect(streamSchema.parse(read.body)).toEqual(stream);
    const listed = await call(streams(org.slug), token);
    expect(listed.status).toBe(200);
    expect(listed.text).not.toContain(splunkToken);
    expect(streamListSchema.parse(listed.body).streams.map((s) => s.id)).toEqual([stream.id]);

    // The database holds only the sealed text, which the deployment's key opens.
    const row = await storedRow(stream.id);
    expect(row.row).not.toContain(splunkToken);
    expect(row.row).not.toContain(splunkToken.slice(0, 12));
    expect(row.secret_sealed).toMatch(/^v1\.[0-9a-f]{8}\./);
    expect(row.secret_hint).toBe(splunkToken.slice(-4));
    expect(stack.services.secrets.open(row.secret_sealed)).toBe(splunkToken);
  });

  it("generates an https stream's signing secret and answers it once", async () => {
    const { org, token } = await newOrg("str-https");
    const created = await create(org.slug, token, {
      name: "Our collector",
      destination: { type: "https", url: "https://collector.example.com/audit" },
    });
    expect(created.status, created.text).toBe(201);
    const secret = (created.body as { signingSecret: string }).signingSecret;
    expect(secret).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(Buffer.from(secret.slice(6), "base64")).toHaveLength(32);
    const { id, secretHint } = created.body as { id: string; secretHint: string };
    expect(secretHint).toBe(secret.slice(-4));
    const read = await call(`${streams(org.slug)}/${id}`, token);
    expect(read.text).not.toContain(secret);
    expect(read.body).not.toHaveProperty("signingSecret");
    const row = await storedRow(id);
    expect(row.row).not.toContain(secret.slice(6, 30));
    expect(stack.services.secrets.open(row.secret_sealed)).toBe(secret);

    // A secret given is kept, and not answered back.
    const given = "whsec_given-by-the-receiver-0001";
    const own = await create(org.slug, token, {
      name: "Given secret",
      destination: { type: "https", url: "https://collector.example.com/b", signingSecret: given },
    });
    expect(own.status).toBe(201);
    expect(own.text).not.toContain(given);
    expect(own.body).not.toHaveProperty("signingSecret");
  });

  it("refuses each bad input with a 400 naming the field", async () => {
    const { org, token } = await newOrg("str-bad");
    const slug = org.slug;
    const named = { name: "Bad" };
    await expectRefused(
      slug,
      token,
      { ...named, destination: { type: "syslog" } },
      "destination.type",
    );
    await expectRefused(slug, token, { ...named, destination: {} }, "destination.type");
    const badQ = await expectRefused(
      slug,
      token,
      { ...named, destination: splunk(), q: 'type:org.* actor:"unterminated' },
      "q",
    );
    expect(badQ.details?.[0]).toMatchObject({ path: "q", position: 11 });
    for (const url of [
      "http://splunk.example.com:8088",
      "https://10.0.0.5:8088",
      "https://127.0.0.1:8088",
      "https://user:pass@splunk.example.com",
      "not a url",
    ]) {
      await expectRefused(
        slug,
        token,
        { ...named, destination: splunk({ url }) },
        "destination.url",
      );
    }
    await expectRefused(
      slug,
      token,
      { ...named, destination: { type: "https", url: "https://169.254.169.254/latest" } },
      "destination.url",
    );
    await expectRefused(
      slug,
      token,
      {
        ...named,
        destination: { type: "datadog", url: "https://[::1]/v2", apiKey: "dd-api-key-0001" },
      },
      "destination.url",
    );
    const s3 = {
      type: "s3",
      bucket: "audit-archive",
      accessKeyId: "AKIAEXAMPLE",
      secretAccessKey: "s3-secret-access-key-0001",
    };
    await expectRefused(
      slug,
      token,
      { ...named, destination: { ...s3, endpoint: "https://192.168.1.10:9000" } },
      "destination.endpoint",
    );
    await expectRefused(
      slug,
      token,
      { ...named, destination: splunk({ token: undefined }) },
      "destination.token",
    );
    await expectRefused(
      slug,
      token,
      { ...named, destination: { type: "datadog", site: "datadoghq.eu" } },
      "destination.apiKey",
    );
    await expectRefused(
      slug,
      token,
      { ...named, destination: { ...s3, secretAccessKey: undefined } },
      "destination.secretAccessKey",
    );
    for (const seq of [0, -1, 2, 1.5]) {
      await expectRefused(
        slug,
        token,
        { ...named, destination: splunk(), start: { seq } },
        "start.seq",
      );
    }
    await expectRefused(slug, token, { destination: splunk() }, "name");
    // Nothing was stored by any of them.
    const listed = await call(streams(slug), token);
    expect(listed.body).toEqual({ streams: [] });
  });

  it("starts now or from a retained seq, and answers the lag in entries and time", async () => {
    const { org, token } = await newOrg("str-start");
    await insertRows([0, 1, 2].map(() => entryRow(org.id)));
    const fromStart = await create(org.slug, token, {
      name: "Everything",
      destination: splunk(),
      start: { seq: 1 },
    });
    expect(fromStart.status, fromStart.text).toBe(201);
    const behind = streamSchema.parse(fromStart.body);
    expect(behind.deliveredSeq).toBe(0);
    expect(behind.lag.entries).toBe(3);
    expect(behind.lag.seconds).toBeGreaterThan(0);
    expect(behind.lag.seconds).toBeLessThan(3600);

    const fromNow = streamSchema.parse(
      (await create(org.slug, token, { name: "New only", destination: splunk() })).body,
    );
    expect(fromNow).toMatchObject({ deliveredSeq: 3, lag: { entries: 0, seconds: 0 } });
    const nextOne = await create(org.slug, token, {
      name: "Next",
      destination: splunk(),
      start: { seq: 4 },
    });
    expect(nextOne.status).toBe(201);
    expect(nextOne.body).toMatchObject({ deliveredSeq: 3 });
    await expectRefused(
      org.slug,
      token,
      { name: "Past end", destination: splunk(), start: { seq: 5 } },
      "start.seq",
    );

    // A purged log starts at its first retained entry.
    const purged = await newOrg("str-purged");
    await pool.query(
      "INSERT INTO audit_log_heads (org_id, size, retained_from) VALUES ($1, 40, 26)",
      [purged.org.id],
    );
    const early = await expectRefused(
      purged.org.slug,
      purged.token,
      { name: "Too early", destination: splunk(), start: { seq: 25 } },
      "start.seq",
    );
    expect(early.details?.[0]?.message).toContain("from 26");
    const first = await create(purged.org.slug, purged.token, {
      name: "From the first retained",
      destination: splunk(),
      start: { seq: 26 },
    });
    expect(first.status).toBe(201);
    expect(first.body).toMatchObject({ deliveredSeq: 25, lag: { entries: 15 } });
  });

  it("answers 401 without credentials, 403 to members who are not admins, 404 for another organisation's stream", async () => {
    const { org, token } = await newOrg("str-authz");
    const other = await newOrg("str-other");
    const created = await create(org.slug, token, { name: "Mine", destination: splunk() });
    const id = (created.body as { id: string }).id;
    const reader = await createMemberWithToken(org.slug, "read");
    const writer = await createMemberWithToken(org.slug, "write");

    expect((await call(streams(org.slug), null)).status).toBe(401);
    for (const member of [reader, writer]) {
      expect((await call(streams(org.slug), member.token)).status).toBe(403);
      expect((await call(`${streams(org.slug)}/${id}`, member.token)).status).toBe(403);
      expect(
        (await create(org.slug, member.token, { name: "x", destination: splunk() })).status,
      ).toBe(403);
      const deleted = await call(`${streams(org.slug)}/${id}`, member.token, { method: "DELETE" });
      expect(deleted.status).toBe(403);
    }
    // Another organisation's admin, through their own organisation: the id is not theirs.
    const theirs = `${streams(other.org.slug)}/${id}`;
    expect((await call(theirs, other.token)).status).toBe(404);
    expect(
      (await call(theirs, other.token, { method: "PATCH", body: { paused: true } })).status,
    ).toBe(404);
    expect((await call(theirs, other.token, { method: "DELETE" })).status).toBe(404);
    // …and not through the stream's organisation, which they are not a member of.
    expect((await call(`${streams(org.slug)}/${id}`, other.token)).status).toBe(404);
    // Untouched.
    expect((await call(`${streams(org.slug)}/${id}`, token)).body).toMatchObject({
      state: "active",
    });
  });

  it("changes a stream: pause and resume, name and q, a new URL keeping the secret, a new secret", async () => {
    const { org, token } = await newOrg("str-patch");
    const created = await create(org.slug, token, { name: "SOC", destination: splunk() });
    const id = (created.body as { id: string }).id;
    const path = `${streams(org.slug)}/${id}`;
    const patch = (body: unknown) => call(path, token, { method: "PATCH", body });
    const sealedBefore = (await storedRow(id)).secret_sealed;

    const paused = await patch({ paused: true });
    expect(paused.status, paused.text).toBe(200);
    expect(paused.body).toMatchObject({ state: "paused" });
    expect((await call(path, token)).body).toMatchObject({ state: "paused" });
    expect((await patch({ paused: false })).body).toMatchObject({ state: "active" });

    const renamed = await patch({ name: "SOC (EU)", q: "category:audit_log" });
    expect(renamed.body).toMatchObject({ name: "SOC (EU)", q: "category:audit_log" });

    // A new URL without the token keeps the stored secret (same sealed text).
    const moved = await patch({ destination: { url: "https://splunk-eu.example.com:8088" } });
    expect(moved.status, moved.text).toBe(200);
    expect(moved.body).toMatchObject({
      destination: { type: "splunk", url: "https://splunk-eu.example.com:8088", index: "audit" },
      secretHint: splunkToken.slice(-4),
    });
    expect((await storedRow(id)).secret_sealed).toBe(sealedBefore);

    const newToken = "hec-token-rotated-0000aaaa";
    const rotated = await patch({ destination: { token: newToken } });
    expect(rotated.status).toBe(200);
    expect(rotated.text).not.toContain(newToken);
    expect(rotated.body).toMatchObject({ secretHint: "aaaa" });
    const row = await storedRow(id);
    expect(row.row).not.toContain(newToken);
    expect(stack.services.secrets.open(row.secret_sealed)).toBe(newToken);

    // Another type needs its own secret.
    await expectRefused(
      org.slug,
      token,
      { destination: { type: "datadog" } },
      "destination.apiKey",
      {
        method: "PATCH",
        path,
      },
    );
    await expectRefused(
      org.slug,
      token,
      { destination: { url: "http://splunk.example.com" } },
      "destination.url",
      {
        method: "PATCH",
        path,
      },
    );
    await expectRefused(org.slug, token, { destination: { type: "kafka" } }, "destination.type", {
      method: "PATCH",
      path,
    });
    await expectRefused(org.slug, token, { q: "nope:x" }, "q", { method: "PATCH", path });
    await expectRefused(org.slug, token, { paused: "yes" }, "paused", { method: "PATCH", path });
    const switched = await patch({
      destination: { type: "datadog", site: "datadoghq.eu", apiKey: "dd-api-key-0000bbbb" },
    });
    expect(switched.status, switched.text).toBe(200);
    expect(switched.body).toMatchObject({
      destination: { type: "datadog", site: "datadoghq.eu", service: "auditlog" },
      secretHint: "bbbb",
    });
  });

  it("answers failing once deliveries have failed for longer than STREAM_FAILING_AFTER_SECONDS", async () => {
    const { org, token } = await newOrg("str-failing");
    const created = await create(org.slug, token, { name: "SOC", destination: splunk() });
    const id = (created.body as { id: string }).id;
    const path = `${streams(org.slug)}/${id}`;
    await pool.query(
      `UPDATE log_streams SET failing_since = now() - interval '60 seconds', last_error = 'HTTP 503',
         last_error_at = now() WHERE id = $1`,
      [id],
    );
    expect((await call(path, token)).body).toMatchObject({
      state: "active",
      lastError: "HTTP 503",
    });
    const threshold = stack.env.STREAM_FAILING_AFTER_SECONDS;
    await pool.query(
      "UPDATE log_streams SET failing_since = now() - make_interval(secs => $2) WHERE id = $1",
      [id, threshold + 5],
    );
    expect((await call(path, token)).body).toMatchObject({ state: "failing" });
    // Paused wins: the admin stopped it on purpose.
    await call(path, token, { method: "PATCH", body: { paused: true } });
    expect((await call(path, token)).body).toMatchObject({ state: "paused" });
    // A new destination starts healthy.
    const moved = await call(path, token, {
      method: "PATCH",
      body: { paused: false, destination: { url: "https://splunk2.example.com" } },
    });
    expect(moved.body).toMatchObject({ state: "active", failingSince: null });
  });

  it("records each change in the organisation's own log, never a secret", async () => {
    const { org, token } = await newOrg("str-record");
    const created = await create(org.slug, token, { name: "SOC", destination: splunk() });
    const id = (created.body as { id: string }).id;
    const path = `${streams(org.slug)}/${id}`;
    await call(path, token, { method: "PATCH", body: { paused: true } });
    // Nothing changes: nothing recorded.
    await call(path, token, { method: "PATCH", body: { paused: true } });
    await call(path, token, {
      method: "PATCH",
      body: { destination: { token: "hec-token-new-00000001" } },
    });
    expect((await call(path, token, { method: "DELETE" })).status).toBe(204);
    expect((await call(path, token)).status).toBe(404);
    expect((await call(path, token, { method: "DELETE" })).status).toBe(404);

    const events = await recorded(org.id);
    const common = { streamId: id, name: "SOC", destinationType: "splunk" };
    expect(events.map((event) => [event.type, event.data])).toEqual([
      ["org.audit_log.stream.create", common],
      ["org.audit_log.stream.update", { ...common, changed: ["paused"] }],
      ["org.audit_log.stream.update", { ...common, changed: ["secret"] }],
      ["org.audit_log.stream.delete", common],
    ]);
    expect(events[0]?.target).toEqual({ type: "log_stream", id, name: "SOC" });
    expect(events[0]?.actor.type).toBe("token");
    const text = JSON.stringify(events);
    expect(text).not.toContain(splunkToken);
    expect(text).not.toContain("hec-token-new");
  });

  it(`refuses a stream beyond ${maxStreamsPerOrg} per organisation with a 409 naming streams`, async () => {
    const { org, token } = await newOrg("str-limit");
    for (let i = 0; i < maxStreamsPerOrg; i++) {
      const made = await create(org.slug, token, { name: `S${i}`, destination: splunk() });
      expect(made.status).toBe(201);
    }
    const refused = await create(org.slug, token, { name: "One too many", destination: splunk() });
    expect(refused.status).toBe(409);
    expect((refused.body as ErrorAnswer).error.details).toEqual([
      { path: "streams", message: `at most ${maxStreamsPerOrg} per organization` },
    ]);
    const listed = streamListSchema.parse((await call(streams(org.slug), token)).body);
    expect(listed.streams).toHaveLength(maxStreamsPerOrg);
    expect(listed.streams.map((s) => s.name)).toEqual(
      Array.from({ length: maxStreamsPerOrg }, (_, i) => `S${i}`),
    );
  });

  describe("POST /:id/test", () => {
    // Its own API, which may reach 127.0.0.1 (WEBHOOK_ALLOW_LOCAL_URLS): the receiver is local.
    let local: Stack;
    const receiver = new SplunkHecReceiver(splunkToken);
    beforeAll(async () => {
      local = await startTestApi({ WEBHOOK_ALLOW_LOCAL_URLS: "true" });
      await receiver.start();
    });
    afterAll(async () => {
      await receiver.stop();
      await local?.services.close();
    });

    const send = (path: string, token: string) =>
      local.app.request(path, { method: "POST", headers: { authorization: `Bearer ${token}` } });

    it("sends one test message with the stored token and answers what the receiver said; the stream is unchanged", async () => {
      const { org, token } = await newOrg("str-test");
      const made = await local.app.request(streams(org.slug), {
        method: "POST",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({
          name: "Local HEC",
          destination: { type: "splunk", url: receiver.origin, token: splunkToken },
        }),
      });
      expect(made.status).toBe(201);
      const stream = streamSchema.parse(await made.json());
      const path = `${streams(org.slug)}/${stream.id}`;

      const answer = await send(`${path}/test`, token);
      expect(answer.status).toBe(200);
      const text = await answer.text();
      expect(text).not.toContain(splunkToken);
      expect(streamTestResultSchema.parse(JSON.parse(text))).toMatchObject({
        ok: true,
        status: 200,
      });
      // The receiver checked `Authorization: Splunk <token>` and took one event marked a test.
      expect(receiver.events).toHaveLength(1);
      expect(receiver.events[0]).toMatchObject({ fields: { test: "true" } });
      const after = await local.app.request(path, {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(streamSchema.parse(await after.json())).toMatchObject({
        deliveredSeq: stream.deliveredSeq,
        lastSuccessAt: null,
        lastError: null,
      });

      // A token the receiver does not know: its refusal, answered (not a 5xx), the token not in it.
      const wrong = "hec-token-the-receiver-refuses";
      await local.app.request(path, {
        method: "PATCH",
        headers: { authorization: `Bearer ${token}`, "content-type": "application/json" },
        body: JSON.stringify({ destination: { token: wrong } }),
      });
      const refused = await send(`${path}/test`, token);
      expect(refused.status).toBe(200);
      const refusedText = await refused.text();
      expect(refusedText).not.toContain(wrong);
      expect(streamTestResultSchema.parse(JSON.parse(refusedText))).toMatchObject({
        ok: false,
        status: 403,
      });
      expect(receiver.events).toHaveLength(1);

      // Members who are not admins, and another organisation's admin, cannot send.
      const reader = await createMemberWithToken(org.slug, "read");
      expect((await send(`${path}/test`, reader.token)).status).toBe(403);
      const other = await newOrg("str-test-other");
      expect((await send(`${streams(other.org.slug)}/${stream.id}/test`, other.token)).status).toBe(
        404,
      );
      expect(receiver.events).toHaveLength(1);
    });
  });

  describe("the CLI", () => {
    async function cli(...args: string[]): Promise<Record<string, unknown>> {
      const { stdout } = await run(
        process.execPath,
        ["--import", "tsx", "src/cli/main.ts", ...args, "--json"],
        {
          cwd: apiDir,
          env: {
            ...process.env,
            DATABASE_URL: testDatabaseUrl,
            INGEST_QUEUE: stack.env.INGEST_QUEUE,
            SECRETS_KEY_FILE: stack.env.SECRETS_KEY_FILE,
            LOG_LEVEL: "error",
          },
          timeout: 300_000,
        },
      );
      return JSON.parse(stdout.trim().split("\n").at(-1) ?? "{}") as Record<string, unknown>;
    }
    async function cliError(...args: string[]): Promise<string> {
      try {
        await cli(...args);
      } catch (error) {
        return String((error as { stderr?: string }).stderr);
      }
      throw new Error(`the CLI accepted ${args.join(" ")}`);
    }

    it("creates, lists, shows, pauses, resumes and deletes streams, recorded with the CLI as the actor", {
      timeout: 600_000,
    }, async () => {
      const { org, token } = await newOrg("str-cli");
      // The token from a file: as an argument it would be visible to other users (ps).
      const tokenFile = join(mkdtempSync(join(tmpdir(), "auditlog-stream-cli-")), "hec-token");
      writeFileSync(tokenFile, `${splunkToken}\n`);
      const create = (type: string, name: string, url: string, ...rest: string[]) => [
        "stream",
        "create",
        "--org",
        org.slug,
        "--type",
        type,
        "--name",
        name,
        "--url",
        url,
        ...rest,
      ];
      const [created, badType, noToken, badUrl, tokenInArgv] = await Promise.all([
        cli(
          ...create("splunk", "SOC", "https://splunk.example.com:8088", "--token-file", tokenFile),
          "--q",
          "category:audit_log",
        ),
        cliError("stream", "create", "--org", org.slug, "--type", "syslog", "--name", "x"),
        cliError(...create("splunk", "x", "https://s.example.com")),
        cliError(...create("https", "x", "http://10.1.2.3/")),
        cliError(...create("splunk", "x", "https://s.example.com", "--token", splunkToken)),
      ]);
      expect(badType).toContain("--type must be one of https, splunk, datadog, s3");
      expect(noToken).toContain("--token-file or --token-stdin is required");
      expect(tokenInArgv).toContain("--token is not accepted");
      expect(tokenInArgv).not.toContain(splunkToken);
      expect(badUrl).toContain("--url must use https");
      expect(created).toMatchObject({
        org: org.slug,
        name: "SOC",
        destination: { type: "splunk", url: "https://splunk.example.com:8088" },
        secretHint: splunkToken.slice(-4),
        q: "category:audit_log",
        state: "active",
      });
      expect(JSON.stringify(created)).not.toContain(splunkToken);
      const id = created.id as string;
      expect(stack.services.secrets.open((await storedRow(id)).secret_sealed)).toBe(splunkToken);

      const https = await cli(
        "stream",
        "create",
        "--org",
        org.slug,
        "--type",
        "https",
        "--name",
        "Hook",
        "--url",
        "https://collector.example.com/in",
        "--from-seq",
        "1",
      );
      expect(https.signingSecret).toMatch(/^whsec_/);
      expect(https.deliveredSeq).toBe(0);

      const listed = await cli("stream", "list", "--org", org.slug);
      expect((listed.streams as { id: string }[]).map((s) => s.id)).toEqual([id, https.id]);
      expect(await cli("stream", "pause", "--org", org.slug, id)).toMatchObject({
        state: "paused",
      });
      expect(await cli("stream", "show", "--org", org.slug, id)).toMatchObject({
        id,
        state: "paused",
      });
      expect(await cli("stream", "resume", "--org", org.slug, id)).toMatchObject({
        state: "active",
      });
      expect(await cli("stream", "delete", "--org", org.slug, id)).toMatchObject({
        id,
        deleted: true,
      });
      expect(await cliError("stream", "show", "--org", org.slug, id)).toContain("stream not found");
      expect((await call(`${streams(org.slug)}/${id}`, token)).status).toBe(404);

      const events = await recorded(org.id);
      const cliActor = { type: "system", id: "auditlog-cli", name: "auditlog CLI" };
      expect(events.map((event) => [event.type, event.data.streamId, event.actor])).toEqual([
        ["org.audit_log.stream.create", id, cliActor],
        ["org.audit_log.stream.create", https.id, cliActor],
        ["org.audit_log.stream.update", id, cliActor],
        ["org.audit_log.stream.update", id, cliActor],
        ["org.audit_log.stream.delete", id, cliActor],
      ]);
    });
  });
});
