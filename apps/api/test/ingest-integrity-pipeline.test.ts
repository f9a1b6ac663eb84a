import { catalogFingerprint } from "@auditlog/events/jobs";
import { describe, expect, it } from "vitest";
import { orgTarget, recordApiAction } from "../src/audit-log/record-api-action.ts";
import {
  createOrgWithKey,
  post,
  sampleEvent,
  usePipelineStack,
  waitFor,
  waitForQueueDrained,
} from "./support/test-stack.ts";

/** Issue 13 through the whole pipeline: what the worker stores, and what it sets aside. */
describe("ingestion integrity, API → Redis → worker → PostgreSQL", () => {
  const pipeline = usePipelineStack();
  const { pool } = pipeline;

  async function storedIds(orgId: string): Promise<string[]> {
    const { rows } = await pool.query<{ id: string }>(
      "SELECT id FROM audit_entries WHERE org_id = $1 ORDER BY id",
      [orgId],
    );
    return rows.map((r) => r.id);
  }

  async function deadLetters(orgId: string) {
    const { rows } = await pool.query<{
      dedupe_key: string;
      event_id: string | null;
      reason: string;
      payload: unknown;
    }>(
      "SELECT dedupe_key, event_id, reason, payload FROM dead_letters WHERE org_id = $1 ORDER BY dedupe_key",
      [orgId],
    );
    return rows;
  }

  /**
   * Item 1: a row PostgreSQL refuses for its content must never cost the rest of its job, nor
   * keep the job retrying for days: the bad rows go to the dead letters with the reason,
   * everything else is stored exactly once, and the job completes.
   */
  describe("item 1: rows PostgreSQL would refuse", () => {
    it("dead-letters a NUL in a job stamped with another catalog, stores the rest, and completes the job", async () => {
      const { org } = await createOrgWithKey("team", "nul-old-catalog");
      await pipeline.stack.services.jobs.ingest.add("ingest.batch", {
        orgId: org.id,
        receivedAt: new Date().toISOString(),
        // An API of another catalog (one that did not refuse NUL yet) validated these.
        catalog: "0123456789abcdef",
        events: [
          sampleEvent(0, { id: "old-good-0" }),
          sampleEvent(1, { id: "old-nul-name", actor: { type: "user", id: "u", name: "a\u0000" } }),
          sampleEvent(2, {
            id: "old-nul-data",
            data: { repo: { type: "model", name: "a/b" }, note: { text: "x\u0000y" } },
          }),
          sampleEvent(3, { id: "old-good-3" }),
        ],
      });
      await waitForQueueDrained(pipeline.stack.services.ingestQueue);
      expect(await storedIds(org.id)).toEqual(["old-good-0", "old-good-3"]);
      const letters = await deadLetters(org.id);
      expect(letters).toMatchObject([
        { event_id: "old-nul-data", reason: expect.stringContaining("events[2].data.note.text") },
        { event_id: "old-nul-name", reason: expect.stringContaining("events[1].actor.name") },
      ]);
      expect(letters[0]?.reason).toMatch(/NUL/);
    });

    it("dead-letters, with PostgreSQL's reason, the rows of a job that skipped validation, stores the rest once, and completes", async () => {
      const { org } = await createOrgWithKey("team", "nul-trusted");
      // Stamped with this catalog, so the worker trusts it and builds rows straight away: only
      // PostgreSQL stands between these values and the table.
      const job = {
        orgId: org.id,
        receivedAt: new Date().toISOString(),
        catalog: catalogFingerprint,
        events: [
          sampleEvent(0, { id: "trusted-good-0" }),
          sampleEvent(1, {
            id: "trusted-nul-text",
            actor: { type: "user", id: "u", name: "a\u0000" },
          }),
          sampleEvent(2, { id: "trusted-good-2" }),
          sampleEvent(3, {
            id: "trusted-nul-json",
            data: { repo: { type: "model", name: "a/b" }, note: "x\u0000y" },
            context: { ip: "203.0.113.77" },
          }),
          sampleEvent(4, { id: "trusted-year-zero", occurredAt: "0000-01-01T00:00:00Z" }),
          ...Array.from({ length: 20 }, (_, i) => sampleEvent(10 + i, { id: `trusted-bulk-${i}` })),
        ],
      };
      await pipeline.stack.services.jobs.ingest.add("ingest.batch", job);
      await waitForQueueDrained(pipeline.stack.services.ingestQueue);
      const expectedIds = [
        "trusted-good-0",
        "trusted-good-2",
        ...Array.from({ length: 20 }, (_, i) => `trusted-bulk-${i}`),
      ].sort();
      expect(await storedIds(org.id)).toEqual(expectedIds);
      const letters = await deadLetters(org.id);
      expect(letters).toMatchObject([
        {
          dedupe_key: "evt:trusted-nul-json",
          reason: expect.stringMatching(/^refused by PostgreSQL.*22P05/),
          // The dead letter keeps the event, NUL shown as U+FFFD, and only the truncated address.
          payload: {
            id: "trusted-nul-json",
            data: { note: "x\ufffdy" },
            context: { ip: "203.0.113.0" },
          },
        },
        { dedupe_key: "evt:trusted-nul-text", reason: expect.stringMatching(/22021/) },
        { dedupe_key: "evt:trusted-year-zero", reason: expect.stringMatching(/22008/) },
      ]);
      expect(JSON.stringify(letters)).not.toContain("203.0.113.77");

      // Delivered again (a retry, a redelivery): nothing is stored or dead-lettered twice.
      await pipeline.stack.services.jobs.ingest.add("ingest.batch", job);
      await waitForQueueDrained(pipeline.stack.services.ingestQueue);
      expect(await storedIds(org.id)).toEqual(expectedIds);
      expect(await deadLetters(org.id)).toHaveLength(3);
    });
  });

  describe("item 6: the API's own records", () => {
    it("refuses org.audit_log.* from an ingestion key with 403, and still stores the API's own records of them", async () => {
      const { org, apiKey } = await createOrgWithKey("team", "reserved-types");
      for (const type of ["org.audit_log.export", "org.audit_log.download"] as const) {
        const forged = await post(pipeline.stack.app, apiKey, {
          id: `forged-${type}`,
          type,
          actor: { type: "user", id: "usr_admin", name: "the-admin" },
          data: { format: "ndjson" },
        });
        expect(forged.status).toBe(403);
        await recordApiAction(pipeline.stack.services, {
          orgId: org.id,
          actor: { type: "user", id: "usr_admin", name: "the-admin" },
          client: { ip: "203.0.113.5", userAgent: "test" },
          event: { type, target: orgTarget(org), data: { format: "ndjson" } },
        });
      }
      const { rows } = await waitFor(
        () =>
          pool.query<{ type: string; id: string }>(
            "SELECT type, id FROM audit_entries WHERE org_id = $1 ORDER BY type",
            [org.id],
          ),
        (result) => result.rows.length >= 2,
      );
      expect(rows.map((r) => r.type)).toEqual(["org.audit_log.download", "org.audit_log.export"]);
      expect(rows.map((r) => r.id)).not.toContain("forged-org.audit_log.export");
    });
  });
});
