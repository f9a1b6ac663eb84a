import { type LogStream, streamSchema } from "@auditlog/events";
import { describe, expect, it } from "vitest";
import { describeStream } from "./stream-command.ts";

const stream = (overrides: Partial<LogStream>): LogStream =>
  streamSchema.parse({
    id: "str_1",
    name: "tail",
    destination: { type: "https", url: "https://siem.example/in" },
    secretHint: "abcd",
    q: "",
    state: "active",
    deliveredSeq: 8,
    lag: { entries: 0, seconds: 0 },
    lastError: null,
    lastErrorAt: null,
    lastSuccessAt: null,
    failingSince: null,
    createdAt: "2026-12-04T10:00:00.000Z",
    updatedAt: "2026-12-04T10:00:00.000Z",
    ...overrides,
  });

describe("describeStream", () => {
  it("says where the stream stands, and nothing of an error it never had", () => {
    expect(describeStream(stream({}))).toBe(
      'str_1  https  active  "tail"  delivered through #8, caught up',
    );
    expect(describeStream(stream({ lag: { entries: 40, seconds: 12.4 } }))).toBe(
      'str_1  https  active  "tail"  delivered through #8, 40 entries behind (12 s)',
    );
  });

  it("dates the last error, and says when a batch has gone through since", () => {
    const failed = {
      lastError: "retry (503): Service Unavailable",
      lastErrorAt: "2026-12-04T10:06:52.629Z",
    };
    expect(
      describeStream(
        stream({ ...failed, state: "failing", lastSuccessAt: "2026-12-04T10:01:00.000Z" }),
      ),
    ).toBe(
      'str_1  https  failing  "tail"  delivered through #8, caught up; last error at 2026-12-04T10:06:52Z: retry (503): Service Unavailable',
    );
    expect(describeStream(stream({ ...failed, lastSuccessAt: "2026-12-04T10:19:30.000Z" }))).toBe(
      'str_1  https  active  "tail"  delivered through #8, caught up; last error at 2026-12-04T10:06:52Z (delivered since): retry (503): Service Unavailable',
    );
  });
});
