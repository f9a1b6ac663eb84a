import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { testDatabaseUrl } from "@auditlog/db/testing";
import { describe, expect, it } from "vitest";
import {
  countEntries,
  createOrgWithKey,
  post,
  sampleEvent,
  usePipelineStack,
  waitFor,
  waitForQueueDrained,
} from "./support/test-stack.ts";

const run = promisify(execFile);

describe("ingestion end to end: API → Redis → worker → PostgreSQL", () => {
  const pipeline = usePipelineStack();
  const { pool } = pipeline;

  it("stores 1,000 events posted in batches as 1,000 rows, and the same 1,000 again as none", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "thousand");
    const events = Array.from({ length: 1000 }, (_, i) => sampleEvent(i, { id: `bulk-${i}` }));
    const postAll = async () => {
      for (let start = 0; start < events.length; start += 250) {
        const response = await post(pipeline.stack.app, apiKey, {
          events: events.slice(start, start + 250),
        });
        expect(response.status).toBe(202);
      }
    };
    await postAll();
    expect(
      await waitFor(
        () => countEntries(org.id),
        (n) => n >= 1000,
      ),
    ).toBe(1000);

    await waitForQueueDrained(pipeline.stack.services.ingestQueue);

    // The same events again: four more jobs, each of which must run to success (a job whose
    // insert failed on the stored ids would stay behind, retrying) and add nothing.
    await postAll();
    await waitForQueueDrained(pipeline.stack.services.ingestQueue);
    expect(await countEntries(org.id)).toBe(1000);

    const { rows } = await pool.query(
      `SELECT type, category, description, actor_name, ip::text AS ip, data
       FROM audit_entries WHERE org_id = $1 AND id = 'bulk-7'`,
      [org.id],
    );
    expect(rows[0]).toEqual({
      type: "repo.create",
      category: "content",
      description: expect.stringContaining("acme/model-7"),
      actor_name: "user0",
      ip: "198.51.100.0/32",
      data: { repo: { type: "model", name: "acme/model-7" } },
    });
  });

  it("stores the new entries of a batch that repeats some stored ones, and leaves the stored ones as they were", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "mixed");
    const first = Array.from({ length: 200 }, (_, i) => sampleEvent(i, { id: `mixed-${i}` }));
    expect((await post(pipeline.stack.app, apiKey, { events: first })).status).toBe(202);
    await waitForQueueDrained(pipeline.stack.services.ingestQueue);
    expect(await countEntries(org.id)).toBe(200);

    // mixed-100 … mixed-299, stored and new ones interleaved; the repeated ones carry other data,
    // which must not replace what is stored.
    const secondIndexes = Array.from({ length: 200 }, (_, i) =>
      i % 2 === 0 ? 100 + i / 2 : 200 + (i - 1) / 2,
    );
    expect(new Set(secondIndexes).size).toBe(200);
    const second = secondIndexes.map((index) =>
      sampleEvent(index, {
        id: `mixed-${index}`,
        data: { repo: { type: "model", name: `acme/changed-${index}` } },
      }),
    );
    expect((await post(pipeline.stack.app, apiKey, { events: second })).status).toBe(202);
    await waitForQueueDrained(pipeline.stack.services.ingestQueue);

    const { rows } = await pool.query<{ id: string; name: string }>(
      "SELECT id, data->'repo'->>'name' AS name FROM audit_entries WHERE org_id = $1",
      [org.id],
    );
    expect(rows).toHaveLength(300);
    const byId = new Map(rows.map((r) => [r.id, r.name]));
    for (let index = 0; index < 300; index++) {
      expect(byId.get(`mixed-${index}`), `mixed-${index}`).toBe(
        index < 200 ? `acme/model-${index}` : `acme/changed-${index}`,
      );
    }
  });

  it("removes finished jobs from Redis", async () => {
    const { org, apiKey } = await createOrgWithKey("team", "cleanup");
    const response = await post(pipeline.stack.app, apiKey, sampleEvent(1));
    expect(response.status).toBe(202);
    await waitFor(
      () => countEntries(org.id),
      (n) => n === 1,
    );
    await waitFor(
      () => pipeline.stack.services.ingestQueue.getJobCounts("completed", "active", "wait"),
      (c) => Object.values(c).every((n) => n === 0),
    );
    const counts = await pipeline.stack.services.ingestQueue.getJobCounts(
      "completed",
      "active",
      "wait",
    );
    expect(counts).toEqual({ completed: 0, active: 0, wait: 0 });
  });

  it("stores IPv4, IPv6 and IPv4-mapped addresses truncated, with location, and the full ones nowhere", async () => {
    const { org, apiKey } = await createOrgWithKey("enterprise", "privacy");
    const fullAddresses = {
      v4: "81.2.69.160",
      v6: "2001:4860:4860:0:0:0:0:8844",
      mapped: "::ffff:8.8.4.4",
    };
    const response = await post(pipeline.stack.app, apiKey, {
      events: [
        sampleEvent(1, { id: "ip-v4", context: { ip: fullAddresses.v4 } }),
        sampleEvent(2, { id: "ip-v6", context: { ip: fullAddresses.v6 } }),
        sampleEvent(3, { id: "ip-mapped", context: { ip: fullAddresses.mapped } }),
        sampleEvent(4, { id: "ip-none", context: {} }),
      ],
    });
    expect(response.status).toBe(202);
    await waitFor(
      () => countEntries(org.id),
      (n) => n === 4,
    );

    const { rows } = await pool.query<{
      id: string;
      ip: string | null;
      country_code: string | null;
    }>(`SELECT id, host(ip) AS ip, country_code FROM audit_entries WHERE org_id = $1 ORDER BY id`, [
      org.id,
    ]);
    expect(rows).toEqual([
      { id: "ip-mapped", ip: "8.8.4.0", country_code: "US" },
      { id: "ip-none", ip: null, country_code: null },
      { id: "ip-v4", ip: "81.2.69.0", country_code: "GB" },
      { id: "ip-v6", ip: "2001:4860:4860::", country_code: expect.stringMatching(/^[A-Z]{2}$/) },
    ]);

    // Search everything PostgreSQL holds, as text, for the full addresses. The dump goes to a
    // file and grep reads it: the test database may hold far more than fits in a string.
    const url = new URL(testDatabaseUrl);
    const dumpFile = join(mkdtempSync(join(tmpdir(), "auditlog-dump-")), "dump.sql");
    await run("pg_dump", [
      "--data-only",
      "-h",
      url.hostname,
      "-p",
      url.port || "5432",
      "-U",
      url.username || "postgres",
      "-f",
      dumpFile,
      url.pathname.slice(1),
    ]);
    const grep = (needles: string[]) =>
      run("grep", ["-F", "-o", "-m", "1", ...needles.flatMap((n) => ["-e", n]), dumpFile]).then(
        ({ stdout }) => stdout.split("\n").filter(Boolean),
        (error: { code?: number }) => {
          if (error.code === 1) return []; // grep: no match
          throw error;
        },
      );
    // The dump really holds this organisation's (truncated) addresses…
    expect(await grep([`${org.id}\t`])).not.toEqual([]);
    expect(await grep(["81.2.69.0"])).not.toEqual([]);
    // …and none of the full ones.
    expect(
      await grep(["81.2.69.160", "2001:4860:4860::8844", "8.8.4.4", "2001:4860:4860:0:0:0:0:8844"]),
    ).toEqual([]);
    rmSync(dumpFile, { force: true });
  });

  it("dead-letters an event the worker refuses, with the reason and without the full IP", async () => {
    const { org } = await createOrgWithKey("team", "deadletter");
    // Bypass the API's validation to show that the worker is the authority.
    await pipeline.stack.services.ingestQueue.add("ingest.batch", {
      orgId: org.id,
      receivedAt: new Date().toISOString(),
      events: [
        sampleEvent(1, { id: "good-one" }),
        sampleEvent(2, {
          id: "bad-one",
          type: "org.change_role",
          data: {},
          context: { ip: "203.0.113.77" },
        }),
      ],
    });
    const deadLetters = await waitFor(
      async () =>
        (
          await pool.query(
            "SELECT event_id, event_type, reason, payload FROM dead_letters WHERE org_id = $1",
            [org.id],
          )
        ).rows,
      (rows) => rows.length === 1,
    );
    expect(deadLetters[0]).toMatchObject({
      event_id: "bad-one",
      event_type: "org.change_role",
      reason: expect.stringContaining("events[1].data"),
      payload: { context: { ip: "203.0.113.0" } },
    });
    expect(JSON.stringify(deadLetters)).not.toContain("203.0.113.77");
    expect(
      await waitFor(
        () => countEntries(org.id),
        (n) => n === 1,
      ),
    ).toBe(1);
  });
});
