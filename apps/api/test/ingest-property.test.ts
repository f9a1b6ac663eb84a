import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { createOrgWithKey, post, usePipelineStack, waitFor } from "./support/test-stack.ts";

/**
 * Strings that have broken storage before, or could: NUL (refused by PostgreSQL's text and jsonb),
 * lone surrogates (refused by jsonb unless replaced), noncharacters, COPY's separators and
 * escapes, JSON's escapes, and text far over every field's limit.
 */
const troublesome = fc.constantFrom(
  "\u0000",
  "\ud800",
  "\udfff",
  "\udbff\udfff",
  "\uffff",
  "\ufffe",
  "\\",
  "\\N",
  "\t",
  "\n",
  "\r",
  '"',
  "\u2028",
  "😀",
  "é",
);

const text = fc.oneof(
  { weight: 6, arbitrary: fc.string({ minLength: 1, maxLength: 24 }) },
  {
    weight: 3,
    arbitrary: fc
      .array(fc.oneof(troublesome, fc.string({ unit: "binary", maxLength: 8 })), {
        minLength: 1,
        maxLength: 6,
      })
      .map((parts) => parts.join("")),
  },
  {
    weight: 1,
    arbitrary: fc
      .tuple(fc.oneof(troublesome, fc.constant("x")), fc.integer({ min: 150, max: 20_000 }))
      .map(([unit, times]) => unit.repeat(times)),
  },
);

const event = fc.record({
  actorId: text,
  actorName: text,
  targetName: text,
  userAgent: text,
  repoName: text,
  extraKey: text,
  extraValue: fc.oneof(text, fc.array(text, { maxLength: 3 })),
});
type GeneratedEvent = typeof event extends fc.Arbitrary<infer T> ? T : never;

let sequence = 0;
function toBody(fields: GeneratedEvent) {
  sequence += 1;
  return {
    id: `prop-${sequence}`,
    type: "repo.create",
    actor: { type: "user", id: fields.actorId, name: fields.actorName },
    target: { type: "model", id: `acme/model-${sequence}`, name: fields.targetName },
    context: { ip: "198.51.100.7", userAgent: fields.userAgent },
    data: { repo: { type: "model", name: fields.repoName }, [fields.extraKey]: fields.extraValue },
  };
}

const loneSurrogate = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** What PostgreSQL holds for a string it was given: lone surrogates become U+FFFD. */
function asStored(value: unknown): unknown {
  if (typeof value === "string") return value.replace(loneSurrogate, "\ufffd");
  if (Array.isArray(value)) return value.map(asStored);
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [asStored(k), asStored(v)]));
  }
  return value;
}

describe("ingestion of random strings, through the real pipeline (API → Redis → worker → PostgreSQL)", () => {
  const pipeline = usePipelineStack();
  const { pool } = pipeline;

  it("stores or dead-letters every event it answered 202 for, names a path in every 400, and never answers 5xx", {
    timeout: 120_000,
  }, async () => {
    const { org, apiKey } = await createOrgWithKey("team", "property");
    const acceptedEvents = new Map<string, ReturnType<typeof toBody>>();
    const counts = {
      requests: 0,
      accepted: 0,
      refusedEvents: 0,
      status: {} as Record<number, number>,
    };

    await fc.assert(
      fc.asyncProperty(fc.array(event, { minLength: 1, maxLength: 3 }), async (generated) => {
        const events = generated.map(toBody);
        const response = await post(pipeline.stack.app, apiKey, { events });
        const body = (await response.json()) as {
          ids?: string[];
          error?: { code: string; details?: { path: string; message: string }[] };
        };
        counts.requests += 1;
        counts.status[response.status] = (counts.status[response.status] ?? 0) + 1;
        expect(response.status, JSON.stringify(body)).toBeLessThan(500);
        if (response.status === 202) {
          expect(body.ids).toEqual(events.map((e) => e.id));
          for (const accepted of events) acceptedEvents.set(accepted.id, accepted);
          counts.accepted += events.length;
          return;
        }
        counts.refusedEvents += events.length;
        if (response.status === 413) return; // the body as a whole is over MAX_BODY_BYTES
        expect(response.status).toBe(400);
        expect(body.error?.code).toBe("validation_failed");
        expect(body.error?.details?.length).toBeGreaterThan(0);
        for (const detail of body.error?.details ?? []) {
          expect(detail.path).toMatch(/^events\[\d+\]/);
        }
      }),
      { numRuns: 150 },
    );

    const ids = [...acceptedEvents.keys()];
    const outcomeNow = async () => {
      const stored = await pool.query<{ id: string; actor_name: string; data: unknown }>(
        "SELECT id, actor_name, data FROM audit_entries WHERE org_id = $1 AND id = ANY($2)",
        [org.id, ids],
      );
      const deadLettered = await pool.query<{ event_id: string }>(
        "SELECT event_id FROM dead_letters WHERE org_id = $1 AND event_id = ANY($2)",
        [org.id, ids],
      );
      return { stored: stored.rows, deadLettered: deadLettered.rows.map((r) => r.event_id) };
    };
    let outcome = await outcomeNow();
    try {
      outcome = await waitFor(
        outcomeNow,
        ({ stored, deadLettered }) => stored.length + deadLettered.length >= ids.length,
        30_000,
      );
    } finally {
      // Printed whether or not every event arrived: CI's output shows what the run covered.
      console.log(
        `random strings through the pipeline: ${counts.requests} requests (statuses ${JSON.stringify(counts.status)}); ` +
          `${counts.accepted} events accepted, ${outcome.stored.length} stored, ` +
          `${outcome.deadLettered.length} dead-lettered; ${counts.refusedEvents} refused with their request`,
      );
    }
    expect(counts.accepted).toBeGreaterThan(0);
    expect(counts.refusedEvents).toBeGreaterThan(0);
    expect(outcome.stored.length + outcome.deadLettered.length).toBe(ids.length);
    // Stored as sent (lone surrogates excepted, which text cannot hold).
    for (const row of outcome.stored) {
      const sent = acceptedEvents.get(row.id);
      expect(row.actor_name).toBe(asStored(sent?.actor.name));
      expect(row.data).toEqual(asStored(sent?.data));
    }
  });
});
