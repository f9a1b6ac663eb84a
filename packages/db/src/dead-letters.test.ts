import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { driversOf } from "./database.ts";
import { insertDeadLetters } from "./dead-letters.ts";
import { createTestDatabase, prepareTestDatabase, uniqueSlug } from "./testing.ts";

const db = createTestDatabase();
const pool = driversOf(db).pool;
const orgId = uniqueSlug("dead-letters");

beforeAll(() => prepareTestDatabase());
afterAll(async () => {
  await pool.query("DELETE FROM dead_letters WHERE org_id = $1", [orgId]);
  await db.close();
});

describe("insertDeadLetters", () => {
  it("keeps an event holding NUL and lone surrogates, with U+FFFD in their place, instead of failing", async () => {
    const inserted = await insertDeadLetters(db, [
      {
        orgId,
        dedupeKey: "evt:nul\u0000key",
        eventId: "nul\u0000id",
        eventType: "repo.create\u0000",
        reason: "refused: events[0].data.k\u0000ey has NUL",
        issues: [{ path: "events[0].data.k\u0000ey", message: "x\u0000" }],
        payload: {
          actor: { name: "a\u0000b\ud800" },
          data: { "k\u0000ey": ["\\u0000 is text", "\u0000"] },
        },
        receivedAt: new Date("2026-11-27T10:00:00Z"),
      },
    ]);
    expect(inserted).toBe(1);
    const { rows } = await pool.query(
      "SELECT dedupe_key, event_id, event_type, reason, issues, payload FROM dead_letters WHERE org_id = $1",
      [orgId],
    );
    expect(rows).toEqual([
      {
        dedupe_key: "evt:nul\ufffdkey",
        event_id: "nul\ufffdid",
        event_type: "repo.create\ufffd",
        reason: "refused: events[0].data.k\ufffdey has NUL",
        issues: [{ path: "events[0].data.k\ufffdey", message: "x\ufffd" }],
        payload: {
          actor: { name: "a\ufffdb\ufffd" },
          data: { "k\ufffdey": ["\\u0000 is text", "\ufffd"] },
        },
      },
    ]);
  });
});
