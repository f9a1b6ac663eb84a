import { streamEntryOf } from "@auditlog/events";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  createDestinationSender,
  type SenderDeps,
  type StreamBatch,
  s3ObjectKey,
} from "../src/index.ts";
import { makeEntry, makeStreamEntries, S3TestServer, s3TestCredentials } from "./support/index.ts";

const deps: SenderDeps = { allowLocal: true, timeoutMs: 20_000 };
const org = { id: "org_test1", slug: "acme" };

function batch(from: number, count: number): StreamBatch {
  return { streamId: "str_s31", org, entries: makeStreamEntries(count, from) };
}

describe("s3 sender (PutObject, gzip NDJSON)", () => {
  const server = new S3TestServer("audit-archive");
  beforeAll(() => server.start());
  afterAll(() => server.close());

  const destination = (over: { accessKeyId?: string; bucket?: string; prefix?: string } = {}) =>
    ({
      type: "s3",
      bucket: over.bucket ?? server.bucket,
      prefix: over.prefix ?? "auditlog/v1",
      region: "us-east-1",
      endpoint: server.endpoint,
      forcePathStyle: true,
      accessKeyId: over.accessKeyId ?? s3TestCredentials.accessKeyId,
    }) as const;
  const sender = (over: Parameters<typeof destination>[0] = {}) =>
    createDestinationSender(destination(over), s3TestCredentials.secretAccessKey, deps);

  it("names objects <prefix>/<org id>/<yyyy>/<mm>/<dd>/<firstSeq>-<lastSeq>.ndjson.gz, seqs padded", () => {
    const entries = [
      streamEntryOf(makeEntry(7, { receivedAt: "2026-03-04T23:59:59.000Z" })),
      streamEntryOf(makeEntry(12)),
    ];
    const now = new Date();
    expect(s3ObjectKey({ prefix: "a/b" }, { streamId: "s", org, entries }, now)).toBe(
      "a/b/org_test1/2026/03/04/000000000007-000000000012.ndjson.gz",
    );
    expect(s3ObjectKey({ prefix: "" }, { streamId: "s", org, entries }, now)).toMatch(
      /^org_test1\/2026\//,
    );
    expect(s3ObjectKey({ prefix: "" }, { streamId: "s", org, entries, test: true }, now)).toBe(
      `org_test1/test/${now.getTime()}.ndjson.gz`,
    );
  });

  it("writes one gzip NDJSON object per batch that the SDK reads back, every entry in seq order", async () => {
    const first = batch(1, 100);
    expect(await sender().send(first)).toEqual({ kind: "delivered", status: 200 });
    expect(await sender().send(batch(101, 50))).toEqual({ kind: "delivered", status: 200 });
    // A retry rewrites the same key with the same content.
    expect(await sender().send(first)).toEqual({ kind: "delivered", status: 200 });
    const objects = await server.objects("auditlog/v1/");
    expect(objects.map((o) => o.key)).toEqual([
      "auditlog/v1/org_test1/2026/12/01/000000000001-000000000100.ndjson.gz",
      "auditlog/v1/org_test1/2026/12/02/000000000101-000000000150.ndjson.gz",
    ]);
    expect(objects[0]?.contentType).toBe("application/gzip");
    const entries = objects.flatMap((o) => o.entries);
    expect(entries.map((e) => e.seq)).toEqual(Array.from({ length: 150 }, (_, i) => i + 1));
    expect(entries.map((e) => e.id)).toEqual(
      Array.from({ length: 150 }, (_, i) => `ent_test_${i + 1}`),
    );
    // Each line is the entry as the API answers it (its JSON text as the batch held it).
    expect(entries[0]).toEqual(JSON.parse(first.entries[0]?.json ?? "null"));
  });

  it("is rejected for a wrong secret access key (403 SignatureDoesNotMatch, the secret not quoted)", async () => {
    const wrongSecret = "wrong-secret-access-key-1234";
    const outcome = await createDestinationSender(destination(), wrongSecret, deps).send(
      batch(1, 1),
    );
    expect(outcome).toMatchObject({
      kind: "rejected",
      status: 403,
      reason: expect.stringContaining("SignatureDoesNotMatch"),
    });
    expect(JSON.stringify(outcome)).not.toContain(wrongSecret);
    expect(server.refused.at(-1)?.code).toBe("SignatureDoesNotMatch");
  });

  it("is rejected for an unknown access key (403) and a missing bucket (404)", async () => {
    const key = await sender({ accessKeyId: "AKIAUNKNOWN" }).send(batch(1, 1));
    expect(key).toMatchObject({
      kind: "rejected",
      status: 403,
      reason: expect.stringContaining("InvalidAccessKeyId"),
    });
    const bucket = await sender({ bucket: "no-such-bucket" }).send(batch(1, 1));
    expect(bucket).toMatchObject({
      kind: "rejected",
      status: 404,
      reason: expect.stringContaining("NoSuchBucket"),
    });
    for (const outcome of [key, bucket])
      expect(JSON.stringify(outcome)).not.toContain(s3TestCredentials.secretAccessKey);
  });

  it("retries while the endpoint is down, and delivers once it is back", async () => {
    const port = server.port;
    await server.stop();
    try {
      expect(await sender().send(batch(500, 2))).toMatchObject({ kind: "retry", status: null });
    } finally {
      await server.start();
    }
    expect(server.port).toBe(port);
    expect(await sender().send(batch(500, 2))).toMatchObject({ kind: "delivered" });
  });

  it("refuses an internal endpoint when local URLs are not allowed, and a name resolving to one", async () => {
    const local = await createDestinationSender(destination(), "x".repeat(16), {
      ...deps,
      allowLocal: false,
    }).send(batch(900, 1));
    expect(local).toMatchObject({ kind: "refused" });
    const named = await createDestinationSender(
      { ...destination(), endpoint: "https://s3.internal.example.com" },
      "x".repeat(16),
      { ...deps, allowLocal: false, lookup: async () => [{ address: "192.168.1.10", family: 4 }] },
    ).send(batch(900, 1));
    expect(named).toMatchObject({ kind: "refused" });
    const aws = await createDestinationSender(
      { ...destination(), endpoint: undefined },
      "x".repeat(16),
      {
        ...deps,
        allowLocal: false,
        lookup: async () => [{ address: "169.254.169.254", family: 4 }],
      },
    ).send(batch(900, 1));
    expect(aws).toMatchObject({ kind: "refused" });
    // Virtual-hosted style: the SDK connects to <bucket>.<endpoint host>, checked on connect too.
    const looked: string[] = [];
    const virtual = await createDestinationSender(
      { ...destination(), endpoint: "https://s3.example.com", forcePathStyle: false },
      "x".repeat(16),
      {
        ...deps,
        allowLocal: false,
        lookup: async (host) => {
          looked.push(host);
          return [{ address: host === "s3.example.com" ? "93.184.216.34" : "10.0.0.5", family: 4 }];
        },
      },
    ).send(batch(900, 1));
    expect(looked).toEqual(["s3.example.com", "audit-archive.s3.example.com"]);
    expect(virtual).toMatchObject({
      kind: "refused",
      reason: expect.stringContaining("non-public"),
    });
    expect((await server.objects("auditlog/v1/org_test1/2026/12/02/000000000900")).length).toBe(0);
  });
});
